// Go binaries: the build information the Go toolchain embeds in the .go.buildinfo
// section of an ELF executable: the Go version, the main module and every dependency
// module with its version (what `go version -m` prints).
//
// Section layout: 14-byte magic "\xff Go buildinf:", pointer size, flags. Go 1.18 and
// later (flag bit 1, strings inline): padding to 32 bytes, then two varint-length-prefixed
// strings, the Go version and the module info. Go 1.13 to 1.17 (bit 1 clear; bit 0: big
// endian): at 16, two pointers to Go string headers {data pointer, length} in the
// program's data, the version's and the module info's. The module info is framed by
// 16-byte sentinels in both.

#include "inventory/catalog.h"

namespace husk::inventory {

namespace {

constexpr std::string_view kMagic = "\xff Go buildinf:";

// A uvarint-prefixed string at `pos`; advances it. nullopt when it runs off the end.
std::optional<std::string_view> varstr(std::string_view d, size_t& pos) {
    uint64_t n = 0;
    for (int shift = 0; pos < d.size() && shift < 64; shift += 7) {
        auto b = static_cast<unsigned char>(d[pos++]);
        n |= static_cast<uint64_t>(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            if (n > d.size() - pos) return std::nullopt;
            auto s = d.substr(pos, n);
            pos += n;
            return s;
        }
    }
    return std::nullopt;
}

void add_modules(std::string_view info, const std::string& go_version, const std::string& where,
                 int layer, Inventory& inv) {
    if (info.size() >= 33 && info[info.size() - 17] == '\n')
        info = info.substr(16, info.size() - 32);  // the sentinels
    std::vector<Package> mods;
    for_each_line(info, [&mods](std::string_view line) {
        std::vector<std::string_view> f;
        for (size_t i = 0; i <= line.size();) {
            size_t j = line.find('\t', i);
            if (j == std::string_view::npos) j = line.size();
            f.push_back(line.substr(i, j - i));
            i = j + 1;
        }
        if ((f[0] == "mod" || f[0] == "dep") && f.size() >= 3) {
            Package p;
            p.type = "golang";
            p.name = f[1];
            p.version = f[2];
            mods.push_back(std::move(p));
        } else if (f[0] == "=>" && f.size() >= 3 && !mods.empty() && !f[1].starts_with('.') &&
                   !f[1].starts_with('/')) {
            // a replacement by another module; one by a local directory ("(devel)")
            // leaves the module and version the program requires
            mods.back().name = f[1];
            mods.back().version = f[2];
        }
    });
    if (!go_version.empty()) {
        Package p;
        p.type = "golang";
        p.name = "stdlib";
        p.version = go_version.starts_with("go") ? go_version.substr(2) : go_version;
        mods.push_back(std::move(p));
    }
    add_found(inv, mods, where, layer);
}

// The Go string whose header {data, len} is at `addr` (before Go 1.18).
std::optional<std::string> go_string_at(const ReadVirtual& read, uint64_t addr, size_t ptr,
                                        bool big_endian) {
    constexpr uint64_t max_len = 1U << 20;  // as Go's debug/buildinfo bounds it
    auto hdr = read(addr, 2 * ptr);
    if (!hdr || hdr->size() != 2 * ptr) return std::nullopt;
    uint64_t data = read_uint(*hdr, 0, ptr, big_endian);
    uint64_t len = read_uint(*hdr, ptr, ptr, big_endian);
    if (len > max_len) return std::nullopt;
    if (len == 0) return std::string();
    return read(data, len);
}

}  // namespace

void add_go_buildinfo(std::string_view d, const ReadVirtual& read, const std::string& where,
                      int layer, Inventory& inv) {
    if (d.size() < 32 || !d.starts_with(kMagic)) return;
    auto flags = static_cast<unsigned char>(d[15]);
    if ((flags & 2) == 0) {  // Go 1.13-1.17: pointers to the strings
        size_t ptr = static_cast<unsigned char>(d[14]);
        bool big_endian = (flags & 1) != 0;
        if ((ptr != 4 && ptr != 8) || d.size() < 16 + 2 * ptr) return;
        auto version = go_string_at(read, read_uint(d, 16, ptr, big_endian), ptr, big_endian);
        auto info =
            version ? go_string_at(read, read_uint(d, 16 + ptr, ptr, big_endian), ptr, big_endian)
                    : std::nullopt;
        if (info) add_modules(*info, *version, where, layer, inv);
        return;
    }
    size_t pos = 32;
    auto version = varstr(d, pos);
    auto info = version ? varstr(d, pos) : std::nullopt;
    if (!info) return;
    add_modules(*info, std::string(*version), where, layer, inv);
}

}  // namespace husk::inventory
