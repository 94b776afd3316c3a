// The new mount API (fsopen, fsconfig, fsmount, open_tree, move_mount, mount_setattr)
// on fds, as thin wrappers that return the new fd or -errno, so no path is resolved
// twice. Async-signal-safe and non-allocating: usable between clone and execve.
#pragma once

#include <sys/mount.h>

#include <cstdint>

namespace husk::sys {

// The per-mount attributes (what `mount -o ro,nosuid,...` sets), as MOUNT_ATTR_* bits.
inline constexpr uint64_t kMountAttrMask =
    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
    MOUNT_ATTR__ATIME | MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW;

// mount_setattr on the mount `fd` refers to (its submounts too when `recursive`):
// set and clear MOUNT_ATTR_* bits, set a propagation type (MS_*). Nothing to do when all
// three are 0. Returns 0 or -errno.
int set_mount_attrs(int fd, bool recursive, uint64_t set, uint64_t clr,
                    uint64_t propagation = 0) noexcept;

// Make the detached mount `tree` idmapped through the user namespace `userns_fd`
// (its submounts too when `recursive`), setting `also_set` attributes with it.
// Returns 0 or -errno.
int idmap_mount(int tree, int userns_fd, bool recursive, uint64_t also_set = 0) noexcept;

// A detached copy of the mount at `path` (relative to `dirfd`; "" for `dirfd` itself):
// open_tree(OPEN_TREE_CLONE) with `flags` added (AT_RECURSIVE). Returns the fd or -errno.
int clone_mount(int dirfd, const char* path, unsigned flags = 0) noexcept;

// Attach the detached mount `mnt` on the file or directory `target` refers to, or at
// `path` (relative to the working directory). Returns 0 or -errno.
int attach_mount(int mnt, int target) noexcept;
int attach_mount_at(int mnt, const char* path) noexcept;

// A filesystem context (fsopen). Returns the fd or -errno.
int open_filesystem(const char* fstype) noexcept;
// Set `key` on a filesystem context: a string value, or a flag when `value` is null or "".
// Returns 0 or -errno.
int set_filesystem_option(int fs, const char* key, const char* value) noexcept;
// Create the filesystem configured on `fs` and return it as a detached mount with the
// MOUNT_ATTR_* `attrs` (fsconfig CMD_CREATE, fsmount). Returns the fd or -errno.
int create_filesystem_mount(int fs, uint64_t attrs) noexcept;

}  // namespace husk::sys
