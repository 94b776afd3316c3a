// npm packages: package.json of every package under a node_modules directory
// (node_modules/NAME/package.json and node_modules/@SCOPE/NAME/package.json), and
// the packages a package-lock.json (lockfileVersion 1, 2, 3) names that are not
// installed beside it (an image that ships the lock file without node_modules).
#include <fmt/format.h>
#include <sys/stat.h>

#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "inventory/catalog.h"
#include "sys/log.h"

namespace husk::inventory {

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
void add_lock_entry(const std::string& name, const nlohmann::json& entry, const std::string& where,
                    int layer, Inventory& inv) {
    if (!entry.is_object() || entry.value("link", false)) return;
    Package p;
    p.type = "npm";
    p.name = name;
    p.version = entry.value("version", "");
    p.license = entry.contains("license") && entry["license"].is_string()
                    ? entry["license"].get<std::string>()
                    : "";
    p.location = where;
    p.layer = layer;
    inv.packages.push_back(std::move(p));
}

// lockfileVersion 1: "dependencies" nested by name.
void add_lock_v1(const nlohmann::json& deps, const std::string& where, int layer,
                 const std::function<bool(const std::string&)>& installed, Inventory& inv) {
    if (!deps.is_object()) return;
    for (auto& [name, entry] : deps.items()) {
        if (!installed(name)) add_lock_entry(name, entry, where, layer, inv);
        if (entry.is_object() && entry.contains("dependencies"))
            add_lock_v1(entry["dependencies"], where, layer, installed, inv);
    }
}

void catalog_lockfiles(const Tree& t, Inventory& inv) {
    std::map<std::string, const Entry*> found;
    for (auto& [path, e] : t.entries())
        if (S_ISREG(e.mode) && split_last(path).second == "package-lock.json" &&
            path.find("node_modules/") == std::string::npos)
            found.emplace(path, &e);
    for (auto& [path, e] : found) {
        auto text = t.read_in_layer(e->layer, path);
        if (!text) continue;
        auto j = nlohmann::json::parse(*text, nullptr, false);
        if (j.is_discarded() || !j.is_object()) {
            log::warn("sbom: /{}: not JSON; skipped", path);
            continue;
        }
        std::string dir(split_last(path).first);
        std::string where = "/" + path;
        auto beside = [&](const std::string& rel) {  // installed, so found as a package.json
            std::string pj = dir.empty() ? fmt::format("{}/package.json", rel)
                                         : fmt::format("{}/{}/package.json", dir, rel);
            return t.find(pj) != nullptr;
        };
        if (j.contains("packages") && j["packages"].is_object()) {
            for (auto& [key, entry] : j["packages"].items()) {
                auto at = key.rfind("node_modules/");
                if (key.empty() || at == std::string::npos || beside(key)) continue;
                add_lock_entry(key.substr(at + 13), entry, where, e->layer, inv);
            }
        } else if (j.contains("dependencies")) {
            add_lock_v1(
                j["dependencies"], where, e->layer,
                [&](const std::string& name) { return beside("node_modules/" + name); }, inv);
        }
    }
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
    catalog_lockfiles(t, inv);
}

}  // namespace husk::inventory
