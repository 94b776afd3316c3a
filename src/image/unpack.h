// Layer unpacking: a (possibly compressed) layer tar is read from a file
// descriptor and written below a directory fd in overlayfs' format (whiteouts
// become 0/0 character devices, opaque directories get trusted.overlay.opaque=y).
// Every entry is created relative to the root fd without following symlinks out
// of it: `..` is clamped at the root, parents are resolved with openat2
// RESOLVE_IN_ROOT, final components are never followed, hardlinks must point
// inside, and nothing may replace the root itself.
//
// A hardlink whose target is not in the layer but in a layer below is made the way
// overlayfs would make it on the merged tree (and containerd does): the lower file is
// copied up into this layer at the target's path and the link made to the copy, so the
// merged root shows both names as one inode. As a user, the copy is the user's with its
// owner in a record, made where the lower file is readable (image/copy_up.h).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sys/fd.h"

namespace husk::image {

struct UnpackLimits {
    uint64_t max_layer_bytes = 64ULL << 30;  // uncompressed tar stream; 0 = no limit
    // Free space to leave on the disk. The sizes of a layer's files may add up to no more
    // than the space free above it when the unpack starts (checked before each file is
    // written); runs of zeros are written as holes.
    uint64_t disk_reserve_bytes = 1ULL << 30;
};

// The roots of the layers below the one being unpacked, top first. Called at most once,
// only for a hardlink whose target is not in the layer; may wait until the lower layers
// are unpacked, and throws when they cannot be.
using LowerLayers = std::function<std::vector<sys::UniqueFd>()>;

struct UnpackResult {
    std::string diff_id;  // sha256 of the uncompressed tar stream
    uint64_t tar_bytes = 0;
    uint64_t entries = 0;
    uint64_t file_bytes = 0;  // sizes of the regular files written (hardlinks not counted)
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

// ---- The ordering rules of the unpack, pure (the unpack applies them on the disk) ----

// What an entry of a layer is, as overlayfs reads it.
enum class LayerNode { absent, whiteout, dir, opaque_dir, other };

// Where `path` (its components) shows as overlayfs merges `layers` layers, index 0 the
// top (the layer being unpacked): walking down the path in each layer, a whiteout hides
// it and everything below, a non-directory on the way (file or symlink) hides it, an
// opaque directory on the way hides the layers under that one, and a component the
// layer lacks sends the search to the next layer down. `probe(layer, prefix)` says what
// `layer` has at a prefix of the path ("a", "a/b", ...). The layer that shows the path
// and what it is there; nothing when it is hidden or in no layer.
struct LayerHit {
    size_t layer;
    LayerNode node;
};
std::optional<LayerHit> find_in_layers(
    const std::vector<std::string>& components, size_t layers,
    const std::function<LayerNode(size_t, const std::string&)>& probe);
// The same walk over the first `count` components, `probe(layer, i)` saying what `layer`
// has at the prefix ending with component i: allocates nothing of its own.
template <class Probe>
std::optional<LayerHit> find_in_layers_by(size_t count, size_t layers, Probe&& probe) {
    for (size_t li = 0; li < layers; ++li) {
        bool opaque = false;
        for (size_t i = 0; i < count; ++i) {
            LayerNode n = probe(li, i);
            if (n == LayerNode::absent) break;  // not in this layer: the ones below may have it
            if (n == LayerNode::whiteout) return std::nullopt;
            if (i + 1 == count) return LayerHit{li, n};
            if (n == LayerNode::other) return std::nullopt;  // a file or symlink hides the path
            opaque = opaque || n == LayerNode::opaque_dir;
        }
        if (opaque) return std::nullopt;
    }
    return std::nullopt;
}
// The non-empty components of a relative path ("a/b/c" -> a, b, c), what
// find_in_layers takes.
std::vector<std::string> path_components(const std::string& path);

// The xattr that marks an opaque directory in an unpacked layer: trusted.overlay.opaque,
// or rootless (trusted.* needs CAP_SYS_ADMIN) user.overlay.opaque, what overlayfs reads
// with its userxattr option.
const char* opaque_xattr();
// Whether the directory `dirfd` is opaque (either xattr, or fuse-overlayfs' own in its
// upper directory: user.fuseoverlayfs.opaque).
bool is_opaque_dir(int dirfd);

// Whether `name` is one of overlayfs' own xattrs: trusted.overlay.*, or user.overlay.*
// under userxattr (opaque, redirect, metacopy, origin, whiteout...), or fuse-overlayfs'
// user.fuseoverlayfs.* (opaque, origin). They say how a layer
// tree is merged, not what a file holds: never taken from a layer tar (they would turn
// files into whiteouts, opaque directories or redirects) nor written into one.
bool is_overlay_xattr(std::string_view name);

// Rootless, the owner and mode a layer gave a file, which an ordinary user cannot give it
// (the file stays the user's): "UID:GID:0MODE" (a fourth field, the file's type, may
// follow), as fuse-overlayfs and containers/storage keep them. The store's record, not a
// file's content: never taken from a layer tar nor written into one.
inline constexpr const char* kOverrideStatXattr = "user.containers.override_stat";
struct OverrideStat {
    uint32_t uid = 0, gid = 0;
    mode_t perm = 0;  // the permission bits (07777)
};
// The record's value parsed; nullopt when malformed.
std::optional<OverrideStat> parse_override_stat(std::string_view value);

// What an entry does to what its layer already has at its name (from an earlier entry):
// a directory over a directory keeps it (the entries merge, the metadata is the new
// one's); anything else goes first, a directory with its tree, a whiteout's target too.
// What the layer tree at `root` has at `path` (relative), following no symlink (a symlink
// is `other`): the probe of find_in_layers for an unpacked layer.
LayerNode probe_layer(int root, const std::string& path);

enum class Replace { nothing, keep_dir, remove_tree, unlink };
// `existing` is the st_mode of what is there (0 when nothing is).
Replace replace_existing(mode_t existing, bool new_is_dir);

// Reads the layer from `fd` (gzip, zstd or plain tar, detected from the data)
// and writes it below `root_fd`. Throws on any error; the caller removes the
// partial directory. `cancel` is checked between entries; a cancelled unpack throws an
// Error with code ECANCELED. Without `lowers`, hardlinks must point inside the layer.
UnpackResult unpack_layer(int fd, int root_fd, const UnpackLimits& limits,
                          const std::atomic<bool>* cancel = nullptr,
                          const LowerLayers& lowers = {});

}  // namespace husk::image
