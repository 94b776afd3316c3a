// husk export: a container's root filesystem (its merged view: the image's layers and
// the container's changes, as the container sees / without its volumes) as a tar.
#pragma once

#include <string>

#include "engine/run.h"

namespace husk::engine {

// Writes the tar to `out_fd`. The container may be running (its files are read as they
// are at that moment, as docker does). Throws `No such container: KEY`.
void export_container(const EngineContext& ctx, const std::string& key, int out_fd);

}  // namespace husk::engine
