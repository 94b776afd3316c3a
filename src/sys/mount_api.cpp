#include "sys/mount_api.h"

#include <fcntl.h>

#include <cerrno>

namespace husk::sys {

int set_mount_attrs(int fd, bool recursive, uint64_t set, uint64_t clr,
                    uint64_t propagation) noexcept {
    if (set == 0 && clr == 0 && propagation == 0) return 0;
    mount_attr a{};
    a.attr_set = set;
    a.attr_clr = clr;
    a.propagation = propagation;
    unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
    return ::mount_setattr(fd, "", flags, &a, sizeof a) == 0 ? 0 : -errno;
}

int idmap_mount(int tree, int userns_fd, bool recursive, uint64_t also_set) noexcept {
    mount_attr a{};
    a.attr_set = MOUNT_ATTR_IDMAP | also_set;
    a.userns_fd = static_cast<uint64_t>(userns_fd);
    unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
    return ::mount_setattr(tree, "", flags, &a, sizeof a) == 0 ? 0 : -errno;
}

int clone_mount(int dirfd, const char* path, unsigned flags) noexcept {
    flags |= OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC;
    if (path[0] == 0) flags |= AT_EMPTY_PATH;
    int fd = ::open_tree(dirfd, path, flags);
    return fd >= 0 ? fd : -errno;
}

int attach_mount(int mnt, int target) noexcept {
    return ::move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) == 0
               ? 0
               : -errno;
}

int attach_mount_at(int mnt, const char* path) noexcept {
    return ::move_mount(mnt, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) == 0 ? 0 : -errno;
}

int open_filesystem(const char* fstype) noexcept {
    int fd = ::fsopen(fstype, FSOPEN_CLOEXEC);
    return fd >= 0 ? fd : -errno;
}

int set_filesystem_option(int fs, const char* key, const char* value) noexcept {
    int r = value == nullptr || value[0] == 0 ? ::fsconfig(fs, FSCONFIG_SET_FLAG, key, nullptr, 0)
                                              : ::fsconfig(fs, FSCONFIG_SET_STRING, key, value, 0);
    return r == 0 ? 0 : -errno;
}

int create_filesystem_mount(int fs, uint64_t attrs) noexcept {
    if (::fsconfig(fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) return -errno;
    int mnt = ::fsmount(fs, FSMOUNT_CLOEXEC, static_cast<unsigned>(attrs));
    return mnt >= 0 ? mnt : -errno;
}

}  // namespace husk::sys
