// Layer unpacking: a (possibly compressed) layer tar is read from a file
// descriptor and written below a directory fd in overlayfs' format (whiteouts
// become 0/0 character devices, opaque directories get trusted.overlay.opaque=y).
// Every entry is created relative to the root fd without following symlinks out
// of it: `..` is clamped at the root, parents are resolved with openat2
// RESOLVE_IN_ROOT, final components are never followed, hardlinks must point
// inside, and nothing may replace the root itself.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace husk::image {

struct UnpackLimits {
    uint64_t max_layer_bytes = 64ULL << 30;    // uncompressed tar stream; 0 = no limit
    uint64_t disk_reserve_bytes = 1ULL << 30;  // stop when free space would drop below this
};

struct UnpackResult {
    std::string diff_id;  // sha256 of the uncompressed tar stream
    uint64_t tar_bytes = 0;
    uint64_t entries = 0;
};

// Lexically cleans a tar member name into a path relative to the layer root:
// leading '/' and "./" dropped, "." removed, ".." never climbs above the root.
// "" means the root itself.
std::string clean_entry_path(std::string_view name);

enum class WhiteoutKind { none, whiteout, opaque, meta };
struct Whiteout {
    WhiteoutKind kind = WhiteoutKind::none;
    std::string dir;   // cleaned parent directory
    std::string name;  // the hidden name (for kind == whiteout)
};
// Classifies a cleaned entry path: ".wh.foo" hides foo, ".wh..wh..opq" makes its
// directory opaque, other ".wh..wh." names are aufs metadata to ignore.
Whiteout classify_whiteout(std::string_view cleaned);

// Reads the layer from `fd` (gzip, zstd or plain tar, detected from the data)
// and writes it below `root_fd`. Throws on any error; the caller removes the
// partial directory. `cancel` is checked between entries.
UnpackResult unpack_layer(int fd, int root_fd, const UnpackLimits& limits,
                          const std::atomic<bool>* cancel = nullptr);

}  // namespace husk::image
