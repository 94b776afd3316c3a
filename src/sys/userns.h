// The one maker of temporary user namespaces: a namespace with given id maps, held by
// an fd, for what takes a user namespace as an argument (an idmapped mount's
// MOUNT_ATTR_IDMAP). Used by the runtime (idmapped binds) and the image store (idmapped
// layers); nothing here knows of containers.
#pragma once

#include <string>

#include "sys/fd.h"

namespace husk::sys {

// A new user namespace whose uid_map and gid_map are `uid_map` and `gid_map` (as
// /proc/PID/uid_map takes them: "inside outside count\n" lines), held by the returned
// fd. The short-lived process that made it is gone when this returns. Throws naming
// the step that failed.
UniqueFd userns_with_maps(const std::string& uid_map, const std::string& gid_map);

}  // namespace husk::sys
