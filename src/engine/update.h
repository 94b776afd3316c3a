// Changing a container after it was made: `husk update` (its resource limits, applied to
// the running container through the runtime core's update and kept in its config.json,
// so a restart keeps them) and `husk rename`.
#pragma once

#include <optional>
#include <string>

#include "engine/record.h"
#include "engine/run.h"

namespace husk::engine {

// The flags of `husk update` as typed (the texts "" when not given).
struct UpdateOptions {
    std::string memory;       // -m, --memory: a size
    std::string memory_swap;  // --memory-swap: a size or -1
    std::string cpus;         // --cpus: a number of CPUs
    std::optional<int64_t> pids_limit;
    std::optional<std::string> restart;  // --restart: a new restart policy
    bool resources_empty() const {
        return memory.empty() && memory_swap.empty() && cpus.empty() && !pids_limit;
    }
    bool empty() const { return resources_empty() && !restart; }
};

// The resources the flags ask for; throws docker's flag errors (bad size, too few CPUs).
oci::Resources update_resources(const UpdateOptions& o, int host_cpus);

// Applies `o` to the container: its cgroup while it runs (or is paused), and its config;
// a restart policy to its record and its monitor (the next exit follows it).
void update_container(const EngineContext& ctx, const ContainerRecord& rec, const UpdateOptions& o);

// Renames the container; a name in use throws with ErrorKind::name_in_use.
void rename_container(const EngineContext& ctx, const ContainerRecord& rec,
                      const std::string& name);

}  // namespace husk::engine
