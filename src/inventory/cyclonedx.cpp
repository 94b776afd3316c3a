// CycloneDX 1.5 JSON (cyclonedx.org/docs/1.5/json): the image (or container) as the
// metadata component, the OS and every package as components; the layer that
// introduced each package and where it was read from as husk: properties.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <unordered_set>

#include "inventory/catalog.h"

namespace husk::inventory {

std::string to_cyclonedx(const Inventory& inv, const Subject& s) {
    using nlohmann::json;
    json components = json::array();
    std::vector<std::string> refs;
    if (!inv.os.id.empty()) {
        components.push_back({{"type", "operating-system"},
                              {"bom-ref", "os"},
                              {"name", inv.os.id},
                              {"version", inv.os.version_id},
                              {"description", inv.os.pretty_name}});
        refs.emplace_back("os");
    }
    std::unordered_set<std::string> used;
    for (auto& p : inv.packages) {
        std::string ref = p.purl;
        for (int i = 2; !used.insert(ref).second; ++i) ref = fmt::format("{}#{}", p.purl, i);
        json props = json::array();
        if (p.layer >= 0) {
            props.push_back({{"name", "husk:layer:index"}, {"value", std::to_string(p.layer)}});
            props.push_back({{"name", "husk:layer:digest"},
                             {"value", inv.layers[static_cast<size_t>(p.layer)].digest}});
        }
        props.push_back({{"name", "husk:location"}, {"value", p.location}});
        if (!p.arch.empty()) props.push_back({{"name", "husk:arch"}, {"value", p.arch}});
        if (!p.source.empty()) props.push_back({{"name", "husk:source"}, {"value", p.source}});
        json c = {{"type", "library"},    {"bom-ref", ref}, {"name", p.name},
                  {"version", p.version}, {"purl", p.purl}, {"properties", props}};
        if (!p.namespace_.empty()) c["group"] = p.namespace_;
        if (!p.license.empty()) c["licenses"] = {{{"license", {{"name", p.license}}}}};
        components.push_back(std::move(c));
        refs.push_back(ref);
    }
    json bom = {
        {"bomFormat", "CycloneDX"},
        {"specVersion", "1.5"},
        {"serialNumber", "urn:uuid:" + random_uuid()},
        {"version", 1},
        {"metadata",
         {{"timestamp", s.created},
          {"tools",
           {{"components",
             {{{"type", "application"}, {"name", "husk"}, {"version", HUSK_VERSION}}}}}},
          {"component",
           {{"type", "container"}, {"bom-ref", "subject"}, {"name", s.name}, {"version", s.id}}},
          {"properties",
           {{{"name", "husk:files:total"}, {"value", std::to_string(inv.files)}},
            {{"name", "husk:files:owned"}, {"value", std::to_string(inv.owned_files)}},
            {{"name", "husk:files:unowned"},
             {"value", std::to_string(inv.files - inv.owned_files)}}}}}},
        {"components", components},
        {"dependencies", {{{"ref", "subject"}, {"dependsOn", refs}}}},
    };
    return bom.dump(2) + "\n";
}

}  // namespace husk::inventory
