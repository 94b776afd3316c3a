// `-u user[:group]` and the image's User, resolved from the container's own
// /etc/passwd and /etc/group (read through the root's fd, never the host's files).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace husk::engine {

struct ResolvedUser {
    uint32_t uid = 0;
    uint32_t gid = 0;
    std::vector<uint32_t> additional_gids;  // groups of /etc/group naming the user
    std::string home = "/";
};

// `spec` is "", "name", "uid", "name:group", "uid:gid" (docker's forms). A numeric
// uid absent from passwd is taken as is (gid 0, home "/"); an unknown name is an error:
//   unable to find user bob: no matching entries in passwd file
ResolvedUser resolve_user(const std::string& rootfs, const std::string& spec);

// The same in a running container, its init `pid` (through /proc/PID/root). A user's
// container whose root fuse-overlayfs serves (`fuse_root`) answers only processes of its
// own user namespace: the files are read by one that joined it.
ResolvedUser resolve_running_user(pid_t pid, bool fuse_root, const std::string& spec);

// The same from the text of passwd and group files (the unit-testable core).
ResolvedUser resolve_user_in(const std::string& passwd, const std::string& group,
                             const std::string& spec);

}  // namespace husk::engine
