// Rust binaries built with cargo auditable: the .dep-v0 section holds the crate
// graph as zlib-compressed JSON ({"packages": [{"name", "version", "source", "kind",
// "dependencies", "root"}]}); each crate is a package (pkg:cargo/NAME@VERSION).
#include <zlib.h>

#include <nlohmann/json.hpp>

#include "inventory/catalog.h"
#include "sys/log.h"

namespace husk::inventory {

namespace {

// The inflated section, or nullopt when it is not a zlib stream (or inflates past 16 MiB).
std::optional<std::string> inflate_all(std::string_view in) {
    z_stream z{};
    if (inflateInit(&z) != Z_OK) return std::nullopt;
    std::string out;
    char buf[65536];
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    int rc = Z_OK;
    while (rc == Z_OK && out.size() < (16U << 20)) {
        z.next_out = reinterpret_cast<Bytef*>(buf);
        z.avail_out = sizeof buf;
        rc = inflate(&z, Z_NO_FLUSH);
        out.append(buf, sizeof buf - z.avail_out);
        if (rc == Z_BUF_ERROR && z.avail_in == 0) break;
    }
    inflateEnd(&z);
    if (rc != Z_STREAM_END) return std::nullopt;
    return out;
}

}  // namespace

void add_cargo_auditable(std::string_view section, const std::string& where, int layer,
                         Inventory& inv) {
    auto text = inflate_all(section);
    auto j = text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
    if (!text || j.is_discarded() || !j.is_object() || !j.contains("packages") ||
        !j["packages"].is_array()) {
        log::warn("sbom: {}: a .dep-v0 section that is not cargo auditable's; skipped", where);
        return;
    }
    std::vector<Package> crates;
    for (auto& c : j["packages"]) {
        if (!c.is_object() || !c.contains("name") || !c["name"].is_string()) continue;
        Package p;
        p.type = "cargo";
        p.name = c["name"].get<std::string>();
        p.version = c.value("version", "");
        p.source = c.value("source", "");
        crates.push_back(std::move(p));
    }
    add_found(inv, crates, where, layer);
}

}  // namespace husk::inventory
