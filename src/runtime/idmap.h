// Writing a user namespace's uid_map and gid_map from the parent.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "oci/spec.h"
#include "runtime/mount_options.h"
#include "sys/fd.h"

namespace husk::runtime {

// "0 100000 65536\n..." for /proc/PID/uid_map; throws when a map is empty or too long.
std::string format_id_map(const std::vector<oci::IdMapping>& m, const char* field);
void write_id_maps(pid_t pid, const std::vector<oci::IdMapping>& uids,
                   const std::vector<oci::IdMapping>& gids);

// A user namespace with these maps, held by the returned fd (its short-lived owner
// process is gone when this returns): what an idmapped mount takes as MOUNT_ATTR_IDMAP.
sys::UniqueFd userns_with_maps(const std::vector<oci::IdMapping>& uids,
                               const std::vector<oci::IdMapping>& gids);

// A detached copy of `source` (its whole tree when `recursive`) idmapped through
// `userns_fd` (its submounts too when `idmap_recursive`), with `opts` attributes set.
// Made by the parent: the init, once in its own user namespace, may no longer idmap a
// host filesystem; it only attaches the result (move_mount).
sys::UniqueFd open_idmapped_tree(const std::string& source, const MountOptions& opts,
                                 int userns_fd);

}  // namespace husk::runtime
