// Debian packages: /var/lib/dpkg/status (owned files from info/<pkg>[:<arch>].list),
// and the status.d/ directory of distroless images (one stanza file per package,
// owned files from status.d/<name>.md5sums).
#include <sys/stat.h>

#include <set>

#include "inventory/catalog.h"
#include "sys/error.h"

namespace husk::inventory {

namespace {

constexpr std::string_view kAdmin = "var/lib/dpkg";

// Packages of a status file; only those whose files are on disk (not "not-installed"
// nor "config-files"), as `dpkg-query -W` lists them for an image.
std::vector<Package> parse_status(std::string_view text, const std::string& location) {
    std::vector<Package> out;
    size_t pos = 0;
    while (pos < text.size()) {
        Package p;
        std::string status;
        p.type = "deb";
        p.location = location;
        pos = parse_stanza(text, pos, [&](std::string_view k, std::string_view v) {
            if (k == "Package")
                p.name = v;
            else if (k == "Version")
                p.version = v;
            else if (k == "Architecture")
                p.arch = v;
            else if (k == "Status")
                status = v;
            else if (k == "License")
                p.license = v;
            else if (k == "Source") {
                auto paren = v.find(" (");
                p.source = trim(v.substr(0, paren));
                if (paren != std::string_view::npos && v.back() == ')')
                    p.source_version = v.substr(paren + 2, v.size() - paren - 3);
            }
        });
        if (p.name.empty()) continue;
        // Status: want flag state ("install ok installed"); status.d stanzas may omit it.
        std::string_view state = status;
        if (auto sp = state.rfind(' '); sp != std::string_view::npos) state = state.substr(sp + 1);
        if (state == "not-installed" || state == "config-files") continue;
        out.push_back(std::move(p));
    }
    return out;
}

void add_lines(std::vector<std::string>& files, std::string_view text, bool md5sums) {
    for_each_line(text, [&](std::string_view line) {
        if (md5sums) {  // "<md5>  usr/bin/x"
            auto sp = line.find("  ");
            if (sp == std::string_view::npos) return;
            line = line.substr(sp + 2);
        }
        if (line.empty() || line == "/.") return;
        files.push_back(line.starts_with('/') ? std::string(line) : "/" + std::string(line));
    });
}

void from_status(const Tree& t, Inventory& inv) {
    const std::string db = std::string(kAdmin) + "/status";
    auto pkgs = read_db_file(t, db, "dpkg",
                             [&](std::string_view text) { return parse_status(text, "/" + db); });
    for (auto& p : pkgs) {
        std::string info = std::string(kAdmin) + "/info/" + p.name;
        auto list = t.read(info + ":" + p.arch + ".list");
        if (!list) list = t.read(info + ".list");
        if (list) add_lines(p.files, *list, false);
        inv.packages.push_back(std::move(p));
    }
}

void from_status_d(const Tree& t, Inventory& inv) {
    const std::string dir = std::string(kAdmin) + "/status.d";
    auto real = t.resolve(dir);
    if (!real) return;
    const Entry* d = t.find(*real);
    if (d == nullptr || !S_ISDIR(d->mode)) return;
    std::set<std::string> names;  // sorted: a stable order
    std::string prefix = *real + "/";
    for (auto& [path, e] : t.entries())
        if (path.starts_with(prefix) && path.find('/', prefix.size()) == std::string::npos &&
            S_ISREG(e.mode) && !path.ends_with(".md5sums"))
            names.insert(path);
    for (auto& path : names) {
        const Entry* e = t.find(path);
        auto text = with_context(error_format("read dpkg database \"/{}\"", path),
                                 [&] { return t.read_in_layer(e->layer, path); });
        if (!text) continue;
        for (auto& p : parse_status(*text, "/" + path)) {
            p.layer = e->layer;
            if (auto sums = t.read(path + ".md5sums"))
                add_lines(p.files, *sums, true);
            else if (auto sums2 = t.read(prefix + p.name + ".md5sums"))
                add_lines(p.files, *sums2, true);
            inv.packages.push_back(std::move(p));
        }
    }
}

}  // namespace

void catalog_dpkg(const Tree& t, Inventory& inv) {
    from_status(t, inv);
    from_status_d(t, inv);
}

}  // namespace husk::inventory
