// husk's own JSON and the table for people.
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "inventory/inventory.h"

namespace husk::inventory {

std::string to_json(const Inventory& inv, const Subject& s) {
    nlohmann::json layers = nlohmann::json::array();
    for (size_t i = 0; i < inv.layers.size(); ++i)
        layers.push_back({{"index", i}, {"digest", inv.layers[i].digest}});
    nlohmann::json pkgs = nlohmann::json::array();
    for (auto& p : inv.packages) {
        nlohmann::json j = {{"type", p.type},         {"name", p.name},
                            {"version", p.version},   {"purl", p.purl},
                            {"location", p.location}, {"layer", p.layer},
                            {"files", p.files.size()}};
        if (!p.namespace_.empty()) j["namespace"] = p.namespace_;
        if (!p.arch.empty()) j["arch"] = p.arch;
        if (!p.source.empty()) j["source"] = p.source;
        if (!p.source_version.empty()) j["sourceVersion"] = p.source_version;
        if (!p.license.empty()) j["license"] = p.license;
        if (p.layer >= 0) j["layerDigest"] = inv.layers[static_cast<size_t>(p.layer)].digest;
        pkgs.push_back(std::move(j));
    }
    nlohmann::json out = {
        {s.container ? "container" : "image", {{"name", s.name}, {"id", s.id}}},
        {"os",
         {{"id", inv.os.id},
          {"versionId", inv.os.version_id},
          {"versionCodename", inv.os.version_codename},
          {"prettyName", inv.os.pretty_name}}},
        {"layers", layers},
        {"packages", pkgs},
        {"files",
         {{"total", inv.files},
          {"owned", inv.owned_files},
          {"unowned", inv.files - inv.owned_files}}},
    };
    return out.dump(2) + "\n";
}

std::string to_table(const Inventory& inv) {
    size_t wn = 4, wv = 7, wt = 4;
    for (auto& p : inv.packages) {
        std::string n = p.namespace_.empty() ? p.name : p.namespace_ + ":" + p.name;
        wn = std::max(wn, n.size());
        wv = std::max(wv, p.version.size());
        wt = std::max(wt, p.type.size());
    }
    std::string out =
        fmt::format("{:<{}}  {:<{}}  {:<{}}  {}\n", "NAME", wn, "VERSION", wv, "TYPE", wt, "LAYER");
    for (auto& p : inv.packages) {
        std::string n = p.namespace_.empty() ? p.name : p.namespace_ + ":" + p.name;
        std::string layer = "-";
        if (p.layer >= 0) {
            const std::string& d = inv.layers[static_cast<size_t>(p.layer)].digest;
            layer = fmt::format("{} {}", p.layer, d.starts_with("sha256:") ? d.substr(7, 12) : d);
        }
        out += fmt::format("{:<{}}  {:<{}}  {:<{}}  {}\n", n, wn, p.version, wv, p.type, wt, layer);
    }
    std::string os = inv.os.pretty_name.empty() ? "unknown" : inv.os.pretty_name;
    out += fmt::format("\nOS: {}; {} packages; files: {} owned by packages, {} unowned\n", os,
                       inv.packages.size(), inv.owned_files, inv.files - inv.owned_files);
    return out;
}

}  // namespace husk::inventory
