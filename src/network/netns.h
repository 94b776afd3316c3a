// A network namespace kept alive by a bind mount of /proc/PID/ns/net on a file, so
// the CNI DEL still finds it (and the bridge plugin removes the veth from inside)
// after the container's last process exited.
#pragma once

#include <sys/types.h>

#include <string>

namespace husk::network {

// Bind-mounts the network namespace of `pid` on `path` (created; its directory too).
void pin_netns(pid_t pid, const std::string& path);
// Unmounts and removes `path`; a path that is missing or not mounted is no error.
void unpin_netns(const std::string& path);

}  // namespace husk::network
