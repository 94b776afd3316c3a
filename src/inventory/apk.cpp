// Alpine packages: /lib/apk/db/installed (apk's "X:value" blocks, one per package,
// separated by a blank line; F: a directory, R: a file in it).
#include "inventory/catalog.h"

namespace husk::inventory {

namespace {

constexpr std::string_view kDb = "lib/apk/db/installed";

std::vector<Package> parse_installed(std::string_view text) {
    std::vector<Package> out;
    Package p;
    std::string dir;
    auto flush = [&] {
        if (!p.name.empty()) out.push_back(std::move(p));
        p = Package{};
        dir.clear();
    };
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        if (line.empty()) {
            flush();
            if (end == text.size()) break;
            continue;
        }
        if (line.size() < 2 || line[1] != ':') continue;
        std::string_view v = line.substr(2);
        switch (line[0]) {
            case 'P':
                p.name = v;
                break;
            case 'V':
                p.version = v;
                break;
            case 'A':
                p.arch = v;
                break;
            case 'L':
                p.license = v;
                break;
            case 'o':
                p.source = v;
                break;
            case 'F':
                dir = v;
                break;
            case 'R':
                p.files.push_back("/" +
                                  (dir.empty() ? std::string(v) : dir + "/" + std::string(v)));
                break;
            default:
                break;
        }
    }
    flush();
    for (auto& q : out) {
        q.type = "apk";
        q.location = "/" + std::string(kDb);
    }
    return out;
}

}  // namespace

void catalog_apk(const Tree& t, Inventory& inv) {
    for (auto& p : read_db_file(t, kDb, "apk", parse_installed))
        inv.packages.push_back(std::move(p));
}

}  // namespace husk::inventory
