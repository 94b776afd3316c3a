// `husk diff CONTAINER`: what a container changed in its root filesystem, read from the
// upper directory of its overlayfs root (A added, C changed, D deleted).
#pragma once

#include <string>
#include <vector>

#include "engine/record.h"
#include "engine/run.h"
#include "image/layer_diff.h"

namespace husk::engine {

// A container root made by the store over an image: the overlayfs upper directory that
// holds its changes, and the image's layer trees (the top first).
struct RootLayers {
    std::string upper;
    // the image's layer trees (top first) and the runtime's mount targets, left out
    image::ChangeFilter filter;
};
// The files and directories the runtime makes in a root as mount targets when the
// image lacks them (bundle.cpp's binds of hostname, hosts and resolv.conf; /proc, /sys, /dev).
const std::vector<std::string>& mount_stubs();
// Throws when the root has no upper directory (a copied root: no overlayfs). For a root
// no container record names (a build step's); one a user namespace wrote needs the record.
RootLayers root_layers(const image::Store& store, const std::string& root_id);
// A root a user namespace with the maps `uids`/`gids` wrote (a user's build step root):
// its owners are mapped back with them.
RootLayers root_layers(const image::Store& store, const std::string& root_id,
                       const std::vector<oci::IdMapping>& uids,
                       const std::vector<oci::IdMapping>& gids);
// The root of the container `rec`: a rootless one's owners are mapped back with the maps
// it was made with (its record's), whatever /etc/subuid says now.
RootLayers root_layers(const image::Store& store, const ContainerRecord& rec);

// The changes of the container named `key` (id, id prefix or name). Needs ctx.store.
std::vector<image::Change> container_changes(const EngineContext& ctx, const std::string& key);

}  // namespace husk::engine
