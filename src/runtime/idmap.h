// Writing a user namespace's uid_map and gid_map from the parent.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "oci/spec.h"

namespace husk::runtime {

// "0 100000 65536\n..." for /proc/PID/uid_map; throws when a map is empty or too long.
std::string format_id_map(const std::vector<oci::IdMapping>& m, const char* field);
void write_id_maps(pid_t pid, const std::vector<oci::IdMapping>& uids,
                   const std::vector<oci::IdMapping>& gids);

}  // namespace husk::runtime
