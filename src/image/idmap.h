// Idmapped mounts for the roots of user-namespaced containers: each read-only
// lower layer is bind-mounted with MOUNT_ATTR_IDMAP so that its files, owned by
// 0..n on disk, appear owned by the container's host uid range. The user
// namespace that carries the mapping is created for this only (a child process
// that unshares and is reaped at once); nothing else of namespaces is known here.
#pragma once

#include <string>

#include "image/store.h"
#include "sys/fd.h"

namespace husk::image {

// A user namespace fd mapping 0..size-1 to shift.uid/gid.
sys::UniqueFd make_userns(const IdShift& shift);

// Bind-mounts `src` read-only on `dst` (an existing directory) through `userns_fd`'s mapping.
void idmapped_mount(const std::string& src, const std::string& dst, int userns_fd);

}  // namespace husk::image
