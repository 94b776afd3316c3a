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

namespace {

// The directory buf[0, len) (relative, no trailing slash; empty: the root itself), made
// where missing: an O_PATH fd of it or -errno. It is looked up first (usually it exists);
// when missing, its parent is found (or made, the same way) and it is made in that fd.
// Each lookup starts at the root, so nothing leads out of it; the usual missing mount
// target whose parent exists costs five calls instead of a walk from the top.
int make_dirs(int rootfd, char* buf, size_t len, mode_t mode) noexcept {
    char saved = buf[len];
    buf[len] = '\0';
    int fd = open_in_root(rootfd, buf, O_PATH | O_DIRECTORY);
    buf[len] = saved;
    if (fd != -ENOENT || len == 0) return fd;
    size_t name = len;  // where the last component starts
    while (name > 0 && buf[name - 1] != '/') --name;
    size_t parent_len = name;
    while (parent_len > 0 && buf[parent_len - 1] == '/') --parent_len;
    int parent = make_dirs(rootfd, buf, parent_len, mode);
    if (parent < 0) return parent;
    saved = buf[len];
    buf[len] = '\0';
    if (::mkdirat(parent, buf + name, mode) != 0 && errno != EEXIST) {
        fd = -errno;
    } else {
        fd = open_in_root(rootfd, buf, O_PATH | O_DIRECTORY);
    }
    buf[len] = saved;
    ::close(parent);
    return fd;
}

}  // namespace

int mkdir_all_in_root(int rootfd, const char* path, mode_t mode) noexcept {
    char buf[PATH_MAX];
    if (int r = copy_rel(path, buf, sizeof buf); r < 0) return r;
    return make_dirs(rootfd, buf, std::strlen(buf), mode);
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
    if (dir) return mkdir_all_in_root(rootfd, path, mode);  // it looks first
    int fd = open_in_root(rootfd, path, O_PATH);
    if (fd >= 0 || fd != -ENOENT) return fd;
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
