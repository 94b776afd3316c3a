// Removing what is not used: stopped containers, dangling (or, with `all`, unused)
// images, unused volumes, each with the space it gave back. `husk container prune`,
// `husk image prune`, `husk volume prune` and `husk system prune` call these.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/run.h"

namespace husk::image {
class Store;
}

namespace husk::engine {

struct PruneReport {
    std::vector<std::string> deleted;   // container ids, image ids, volume names
    std::vector<std::string> untagged;  // image names removed
    uint64_t reclaimed = 0;             // bytes
};

// Every container that is not running (created or exited), as `rm` removes it.
PruneReport prune_containers(const EngineContext& ctx);
// Images without a name; with `all` every image no container was made from. Then the
// blobs and snapshots no image uses any more.
PruneReport prune_images(const EngineContext& ctx, image::Store& store, bool all);
// Anonymous volumes no container names; with `all` named ones too.
PruneReport prune_volumes(const EngineContext& ctx, bool all);

// The bytes of the files below `path` (0 when it is missing); never follows symlinks.
uint64_t tree_bytes(const std::string& path);
// The bytes a container wrote: its overlay's upper directory (0 for a copied root).
// docker's SizeRw, shown by ps -s, system df and container prune.
uint64_t container_size_rw(const EngineContext& ctx, const std::string& id);

}  // namespace husk::engine
