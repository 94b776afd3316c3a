// npm packages: package.json of every package under a node_modules directory
// (node_modules/NAME/package.json and node_modules/@SCOPE/NAME/package.json).
#include <sys/stat.h>

#include <map>
#include <nlohmann/json.hpp>

#include "image/sbom/catalog.h"
#include "sys/log.h"

namespace husk::image::sbom {

namespace {
bool is_package_json(std::string_view path) {
    auto [dir, file] = split_last(path);
    if (file != "package.json") return false;
    auto [parent, name] = split_last(dir);
    if (split_last(parent).second == "node_modules" || parent == "node_modules") return true;
    auto [grand, scope] = split_last(parent);
    return scope.starts_with('@') &&
           (split_last(grand).second == "node_modules" || grand == "node_modules");
}
}  // namespace

void catalog_npm(const Tree& t, Inventory& inv) {
    std::map<std::string, const Entry*> found;
    for (auto& [path, e] : t.entries())
        if (S_ISREG(e.mode) && path.find("node_modules/") != std::string::npos &&
            is_package_json(path))
            found.emplace(path, &e);
    for (auto& [path, e] : found) {
        auto text = t.read_in_layer(e->layer, path);
        if (!text) continue;
        auto j = nlohmann::json::parse(*text, nullptr, false);
        if (j.is_discarded() || !j.is_object() || !j.contains("name") || !j["name"].is_string()) {
            log::warn("sbom: /{}: not a package.json with a name; skipped", path);
            continue;
        }
        Package p;
        p.type = "npm";
        p.location = "/" + path;
        p.layer = e->layer;
        p.name = j["name"].get<std::string>();
        if (j.contains("version") && j["version"].is_string())
            p.version = j["version"].get<std::string>();
        if (j.contains("license")) {
            auto& l = j["license"];
            if (l.is_string())
                p.license = l.get<std::string>();
            else if (l.is_object() && l.contains("type") && l["type"].is_string())
                p.license = l["type"].get<std::string>();
        }
        inv.packages.push_back(std::move(p));
    }
}

}  // namespace husk::image::sbom
