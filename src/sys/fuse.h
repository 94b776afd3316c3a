// A FUSE filesystem served by a program of its own (fuse-overlayfs): the side that owns
// the mount namespace mounts it (in its user namespace: the kernel ties a connection to
// the user namespace /dev/fuse was opened in) and hands the /dev/fuse descriptor to the
// server, whose mount point argument is "/dev/fd/N" (libfuse then serves that connection
// instead of mounting one). The server ends by itself when the mount is gone: the kernel
// aborts the connection once the last mount of it is released.
#pragma once

#include <string>
#include <vector>

namespace husk::sys {

// A FUSE mount made by fuse_mount_detached: the two ends.
struct FuseMountFds {
    int dev = -1;  // the open /dev/fuse: the server's end of the connection
    int mnt = -1;  // the detached mount
};

// Open /dev/fuse and make a detached FUSE mount of it, as root of this process's user
// namespace: the root directory's owner 0:0, default_permissions (the kernel checks modes,
// as on any filesystem). `allow_other`: every process of this user namespace (and those
// below) may use it, and no other; without it, only processes of the mounting user's ids
// (root here: the user outside), in any user namespace. No allocation, no throw (usable
// between clone and execve). Returns 0 with both fds set, or -errno with `step` naming
// what failed.
int fuse_mount_detached(const char* subtype, bool allow_other, FuseMountFds& out,
                        const char*& step) noexcept;

// fuse-overlayfs (found on $PATH) serving the connection `dev` with `options` (its -o
// list: "lowerdir=a:b", "upperdir=..", "workdir=.."), started detached (double-forked, its
// own session, stdio on /dev/null, no other descriptor) in the user namespace `userns_fd`
// when it is not -1 (the one the mount was made in, entered before execve). Nobody waits
// for it: it ends when the mount is gone. Throws when it is not installed, an option holds
// a ',' (the list's separator), or fork fails.
void start_fuse_overlayfs(const std::vector<std::string>& options, int dev, int userns_fd);

}  // namespace husk::sys
