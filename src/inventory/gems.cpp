// Ruby gems: the installed specifications, .../specifications/NAME-VERSION.gemspec
// (the name ends at the first "-" followed by a digit).
#include <sys/stat.h>

#include <map>

#include "inventory/catalog.h"

namespace husk::inventory {

void catalog_gems(const Tree& t, Inventory& inv) {
    std::map<std::string, const Entry*> found;
    for (auto& [path, e] : t.entries())
        if (S_ISREG(e.mode) && path.ends_with(".gemspec") &&
            split_last(split_last(path).first).second == "specifications")
            found.emplace(path, &e);
    for (auto& [path, e] : found) {
        std::string_view file = split_last(path).second;
        file.remove_suffix(std::string_view(".gemspec").size());
        size_t dash = 0;
        while ((dash = file.find('-', dash)) != std::string_view::npos) {
            if (dash + 1 < file.size() && file[dash + 1] >= '0' && file[dash + 1] <= '9') break;
            ++dash;
        }
        if (dash == std::string_view::npos) continue;
        Package p;
        p.type = "gem";
        p.name = file.substr(0, dash);
        p.version = file.substr(dash + 1);
        p.location = "/" + path;
        p.layer = e->layer;
        inv.packages.push_back(std::move(p));
    }
}

}  // namespace husk::inventory
