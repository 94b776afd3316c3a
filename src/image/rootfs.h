// The snapshot/rootfs step: the copying fallback of overlayfs. Container roots and image
// mounts are made by the Store (store.h, defined in rootfs.cpp) over the snapshots, with
// overlayfs where the kernel allows and these copies where it does not (implemented in
// snapshot_copy.cpp).
#pragma once

#include <optional>
#include <string>

#include "image/idshift.h"

namespace husk::image {

// Copies the layer tree at `src` onto `dst`, interpreting overlayfs whiteouts and
// opaque directories, shifting owners when `shift` is set (the copying fallback of
// overlayfs, and the root of a user-namespaced container).
void apply_layer_copy(const std::string& src, const std::string& dst,
                      const std::optional<IdShift>& shift);
// The same between two open directories (contents only: not `dst`'s own owner/mode).
void copy_tree(int src, int dst, const std::optional<IdShift>& shift);
// Copies the entry `name` of `src_dir` into `dst_dir` with its owner, mode, times and
// xattrs, replacing what is there; a directory without its contents (overlayfs' copy-up).
void copy_node(int src_dir, int dst_dir, const char* name, const std::string& path);

}  // namespace husk::image
