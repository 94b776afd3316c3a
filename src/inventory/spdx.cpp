// SPDX 2.3 JSON (spdx.github.io/spdx-spec/v2.3): the image (or container) as the
// described package, CONTAINS every package found; the OS as a package of its own.
// Licences as recorded are free text (dpkg records none, rpm's are often not SPDX
// identifiers), so they go to licenseComments and licenseDeclared is NOASSERTION.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <random>

#include "inventory/catalog.h"

namespace husk::inventory {

std::string random_uuid() {
    std::random_device rd;
    std::uniform_int_distribution<unsigned> byte(0, 255);
    unsigned char b[16];
    for (auto& x : b) x = static_cast<unsigned char>(byte(rd));
    b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
    b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
    std::string s;
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
        s += fmt::format("{:02x}", b[i]);
    }
    return s;
}

std::string layer_text(const Inventory& inv, const Package& p) {
    if (p.layer < 0 || static_cast<size_t>(p.layer) >= inv.layers.size()) return {};
    return fmt::format("layer {} {}", p.layer, inv.layers[static_cast<size_t>(p.layer)].digest);
}

namespace {

// SPDXRef-<idstring>: letters, digits, '.' and '-' only.
std::string spdx_id(std::string_view prefix, std::string_view name, size_t n) {
    std::string id = "SPDXRef-" + std::string(prefix) + "-";
    for (char c : name)
        id += ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '-')
                  ? c
                  : '-';
    return id + "-" + std::to_string(n);
}

}  // namespace

std::string to_spdx(const Inventory& inv, const Subject& s) {
    using nlohmann::json;
    json packages = json::array();
    json rels = json::array();
    const std::string root_id = s.container ? "SPDXRef-Container" : "SPDXRef-Image";
    packages.push_back({{"name", s.name},
                        {"SPDXID", root_id},
                        {"versionInfo", s.id},
                        {"downloadLocation", "NOASSERTION"},
                        {"filesAnalyzed", false},
                        {"licenseConcluded", "NOASSERTION"},
                        {"licenseDeclared", "NOASSERTION"},
                        {"copyrightText", "NOASSERTION"},
                        {"primaryPackagePurpose", "CONTAINER"}});
    rels.push_back({{"spdxElementId", "SPDXRef-DOCUMENT"},
                    {"relationshipType", "DESCRIBES"},
                    {"relatedSpdxElement", root_id}});
    if (!inv.os.id.empty()) {
        packages.push_back({{"name", inv.os.id},
                            {"SPDXID", "SPDXRef-OperatingSystem"},
                            {"versionInfo", inv.os.version_id},
                            {"description", inv.os.pretty_name},
                            {"downloadLocation", "NOASSERTION"},
                            {"filesAnalyzed", false},
                            {"licenseConcluded", "NOASSERTION"},
                            {"licenseDeclared", "NOASSERTION"},
                            {"copyrightText", "NOASSERTION"},
                            {"primaryPackagePurpose", "OPERATING-SYSTEM"}});
        rels.push_back({{"spdxElementId", root_id},
                        {"relationshipType", "CONTAINS"},
                        {"relatedSpdxElement", "SPDXRef-OperatingSystem"}});
    }
    size_t n = 0;
    for (auto& p : inv.packages) {
        std::string id = spdx_id(p.type, p.name, ++n);
        json j = {{"name", p.namespace_.empty() ? p.name : p.namespace_ + ":" + p.name},
                  {"SPDXID", id},
                  {"versionInfo", p.version},
                  {"downloadLocation", "NOASSERTION"},
                  {"filesAnalyzed", false},
                  {"licenseConcluded", "NOASSERTION"},
                  {"licenseDeclared", "NOASSERTION"},
                  {"copyrightText", "NOASSERTION"},
                  {"primaryPackagePurpose", "LIBRARY"},
                  {"externalRefs",
                   {{{"referenceCategory", "PACKAGE-MANAGER"},
                     {"referenceType", "purl"},
                     {"referenceLocator", p.purl}}}}};
        if (!p.license.empty()) j["licenseComments"] = "recorded by the package: " + p.license;
        if (!p.source.empty()) j["sourceInfo"] = "source package: " + p.source;
        std::string where = layer_text(inv, p);
        j["comment"] = where.empty() ? "found in " + p.location
                                     : "found in " + p.location + ", introduced by " + where;
        packages.push_back(std::move(j));
        rels.push_back({{"spdxElementId", root_id},
                        {"relationshipType", "CONTAINS"},
                        {"relatedSpdxElement", id}});
    }
    json doc = {
        {"spdxVersion", "SPDX-2.3"},
        {"dataLicense", "CC0-1.0"},
        {"SPDXID", "SPDXRef-DOCUMENT"},
        {"name", s.name},
        {"documentNamespace", "urn:uuid:" + random_uuid()},
        {"creationInfo",
         {{"created", s.created},
          {"creators", {"Tool: husk-" HUSK_VERSION}},
          {"comment", fmt::format("{} files, {} owned by packages, {} unowned", inv.files,
                                  inv.owned_files, inv.files - inv.owned_files)}}},
        {"packages", packages},
        {"relationships", rels},
    };
    return doc.dump(2) + "\n";
}

}  // namespace husk::inventory
