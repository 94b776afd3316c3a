// A container's changes as a layer: the upper directory of its overlayfs root (overlayfs
// format: whiteouts are 0/0 character devices, opaque directories carry
// trusted.overlay.opaque=y, or user.overlay.opaque=y a user's) written as an OCI layer tar
// (whiteouts as `.wh.NAME`, opaque directories as `.wh..wh..opq`; overlayfs' other xattrs
// left out; a rootless owner record gives the entry its owner), and the A/C/D change list
// `husk diff` prints.
//
// The tar is deterministic: entries in byte order of their paths, numeric owners only,
// no atime/ctime, and with `epoch` set (SOURCE_DATE_EPOCH) every mtime clamped to it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "oci/image/types.h"
#include "oci/spec.h"

namespace husk::image {

struct LayerWriteOptions {
    oci::image::Compression compression = oci::image::Compression::gzip;
    std::optional<int64_t> epoch;  // clamp mtimes to it (SOURCE_DATE_EPOCH)
};

// What an upper dir holds that is not the container's own change: the mount targets the
// runtime made (an empty file or directory at one of `stubs`, e.g. "etc/hosts", that no
// lower layer has), and the directories copied up only to hold them. Docker keeps these
// in a separate init layer; husk leaves them out of diffs and layers.
struct ChangeFilter {
    std::vector<std::string> lowers;  // the layer trees under the upper dir, the top first
    std::vector<std::string> stubs;   // relative paths
    // A rootless container's upper dir holds host ids (the user, its /etc/subuid range):
    // these maps (container id -> host id) give the container's owners back to the layer.
    // Empty: the owners are written as they are.
    std::vector<oci::IdMapping> uid_maps, gid_maps;
};

struct LayerBlob {
    std::string media_type;
    std::string digest;   // of the (compressed) blob
    std::string diff_id;  // of the uncompressed tar
    int64_t size = 0;
    std::string path;  // where it was written
};

// Writes the tree at `upper` as a layer tar to `out_path` (created, 0644).
LayerBlob write_layer(const std::string& upper, const std::string& out_path,
                      const LayerWriteOptions& opts, const ChangeFilter& filter = {});

enum class ChangeKind { added, changed, deleted };
struct Change {
    ChangeKind kind;
    std::string path;  // absolute in the container: "/etc/passwd"
};
char change_letter(ChangeKind k);  // 'A', 'C', 'D'

// The changes the upper dir `upper` makes over `filter.lowers` (layer trees, the top first), in
// path order: a whiteout is D, an entry some lower layer shows is C, others are A.
// The runtime's mount targets are left out (`filter`).
std::vector<Change> list_changes(const std::string& upper, const ChangeFilter& filter);

// SOURCE_DATE_EPOCH from the environment (nullopt when unset; an error when malformed).
std::optional<int64_t> source_date_epoch();

}  // namespace husk::image
