#include "sys/safe_path.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "sys/syscalls.h"

namespace husk::sys {
namespace {

constexpr unsigned long long kResolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

// Copy `path` without leading slashes into buf; -ENAMETOOLONG when it does not fit.
int copy_rel(const char* path, char* buf, size_t len) noexcept {
    while (*path == '/') ++path;
    size_t n = std::strlen(path);
    if (n + 1 > len) return -ENAMETOOLONG;
    std::memcpy(buf, path, n + 1);
    // Trim trailing slashes.
    while (n > 0 && buf[n - 1] == '/') buf[--n] = '\0';
    return 0;
}

}  // namespace

int open_in_root(int rootfd, const char* path, int flags, unsigned long long extra_resolve,
                 mode_t mode) noexcept {
    while (*path == '/') ++path;
    if (*path == '\0') path = ".";
    int fd = openat2(rootfd, path, static_cast<uint64_t>(flags | O_CLOEXEC), mode,
                     kResolve | extra_resolve);
    if (fd < 0) return -errno;
    return fd;
}

int mkdir_all_in_root(int rootfd, const char* path, mode_t mode) noexcept {
    char buf[PATH_MAX];
    if (int r = copy_rel(path, buf, sizeof buf); r < 0) return r;
    // The common case: it all exists.
    int fd = open_in_root(rootfd, buf, O_PATH | O_DIRECTORY);
    if (fd >= 0 || fd != -ENOENT) return fd;

    // Walk the prefixes "a", "a/b", "a/b/c": each is resolved from the root (so it
    // stays inside), and a missing one is made relative to the fd of its parent.
    int cur = ::openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cur < 0) return -errno;
    size_t len = std::strlen(buf);
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && buf[j] != '/') ++j;
        char saved = buf[j];
        buf[j] = '\0';
        int next = open_in_root(rootfd, buf, O_PATH | O_DIRECTORY);
        if (next == -ENOENT) {
            if (::mkdirat(cur, buf + i, mode) != 0 && errno != EEXIST)
                next = -errno;
            else
                next = open_in_root(rootfd, buf, O_PATH | O_DIRECTORY);
        }
        ::close(cur);
        if (next < 0) return next;
        cur = next;
        buf[j] = saved;
        i = j + 1;
        while (i < len && buf[i] == '/') ++i;
    }
    return cur;
}

int parent_in_root(int rootfd, const char* path, char* name, size_t name_len, bool create_parents,
                   mode_t mode) noexcept {
    char buf[PATH_MAX];
    if (int r = copy_rel(path, buf, sizeof buf); r < 0) return r;
    char* slash = std::strrchr(buf, '/');
    const char* last = slash ? slash + 1 : buf;
    size_t n = std::strlen(last);
    if (n == 0 || n + 1 > name_len) return -EINVAL;
    std::memcpy(name, last, n + 1);
    if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) return -EINVAL;
    if (slash) {
        *slash = '\0';
    } else {
        buf[0] = '\0';
    }
    if (create_parents) return mkdir_all_in_root(rootfd, buf, mode);
    return open_in_root(rootfd, buf, O_PATH | O_DIRECTORY);
}

int ensure_in_root(int rootfd, const char* path, bool dir, mode_t mode) noexcept {
    int fd = open_in_root(rootfd, path, O_PATH | (dir ? O_DIRECTORY : 0));
    if (fd >= 0 || fd != -ENOENT) return fd;
    if (dir) return mkdir_all_in_root(rootfd, path, mode);
    char name[NAME_MAX + 1];
    int parent = parent_in_root(rootfd, path, name, sizeof name, true, 0755);
    if (parent < 0) return parent;
    // O_NOFOLLOW|O_EXCL: a symlink planted at the last component is never followed.
    int f = ::openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);
    int err = errno;
    ::close(parent);
    if (f < 0 && err != EEXIST) return -err;
    if (f >= 0) ::close(f);
    return open_in_root(rootfd, path, O_PATH);
}

const char* fd_path(int fd, char* buf) noexcept {
    static const char prefix[] = "/proc/self/fd/";
    std::memcpy(buf, prefix, sizeof prefix - 1);
    char digits[16];
    int n = 0;
    unsigned v = static_cast<unsigned>(fd);
    do {
        digits[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v && n < 15);
    char* out = buf + sizeof prefix - 1;
    while (n > 0) *out++ = digits[--n];
    *out = '\0';
    return buf;
}

}  // namespace husk::sys
