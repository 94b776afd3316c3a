#include "runtime/procfs_guard.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "sys/fd.h"
#include "sys/safe_path.h"
#include "sys/syscalls.h"

namespace husk::runtime {

// --- child side: runs between clone and execve ---
namespace {

constexpr unsigned long kProcRootIno = 1;

bool is_procfs(int fd) noexcept {
    struct statfs s {};
    return ::fstatfs(fd, &s) == 0 && s.f_type == PROC_SUPER_MAGIC;
}

// The files lxcfs (and CRIU's ns_last_pid) bind under /proc; the same list runc allows.
bool lxcfs_file(std::string_view target) noexcept {
    static const char* const kAllowed[] = {"/proc/cpuinfo", "/proc/diskstats",
                                           "/proc/meminfo", "/proc/stat",
                                           "/proc/swaps",   "/proc/uptime",
                                           "/proc/loadavg", "/proc/slabinfo",
                                           "/proc/net/dev", "/proc/sys/kernel/ns_last_pid"};
    for (const char* a : kAllowed)
        if (target == a) return true;
    return false;
}

bool same_inode(int a, int b) noexcept {
    struct stat sa {
    }, sb{};
    return ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

}  // namespace

int check_proc_target(const PlannedMount& m, int rootfd, int target_fd, int mnt_fd) noexcept {
    bool new_proc = m.kind == PlannedMount::Kind::filesystem && m.fstype == "proc";
    if (new_proc) return 0;
    // The target is the container's /proc itself (by whatever path or symlink it was reached).
    int proc = sys::open_in_root(rootfd, "/proc", O_PATH);
    if (proc >= 0) {
        sys::UniqueFd guard(proc);
        if (same_inode(proc, target_fd))
            return m.kind == PlannedMount::Kind::bind && is_procfs(mnt_fd) ? 0 : -EPERM;
    }
    if (!is_procfs(target_fd)) return 0;
    return m.kind == PlannedMount::Kind::bind && lxcfs_file(m.target) ? 0 : -EPERM;
}

int open_procfs_file(int rootfd, const char* path, int flags) noexcept {
    static const char kPrefix[] = "/proc/";
    if (std::strncmp(path, kPrefix, sizeof kPrefix - 1) != 0) return -EINVAL;
    int proc = sys::open_in_root(rootfd, "/proc", O_PATH | O_DIRECTORY);
    if (proc < 0) return proc;
    sys::UniqueFd guard(proc);
    struct stat st {};
    if (!is_procfs(proc) || ::fstat(proc, &st) != 0 || st.st_ino != kProcRootIno) return -EPERM;
    int fd = sys::openat2(proc, path + sizeof kPrefix - 1,
                          static_cast<uint64_t>(flags | O_NOFOLLOW | O_CLOEXEC), 0,
                          RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS);
    if (fd < 0) return -errno;
    if (!is_procfs(fd)) {
        ::close(fd);
        return -EXDEV;
    }
    return fd;
}

// --- end child side ---

}  // namespace husk::runtime
