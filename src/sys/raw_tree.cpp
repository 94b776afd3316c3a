#include "sys/raw_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

namespace husk::sys {
namespace {

constexpr int kMaxDepth = 256;
constexpr size_t kDentBuf = 2048;  // per level, on the stack

// The walk's state: the path below the root, built in place.
struct Walk {
    std::array<char, 4096> path{};
    size_t len = 0;
    RawVisit visit = nullptr;
    void* ctx = nullptr;
    RawError* e = nullptr;
};

bool dot(const char* n) noexcept {
    return n[0] == '.' && (n[1] == 0 || (n[1] == '.' && n[2] == 0));
}

// DT_* of `name` in `dir`, from the entry or (file systems that do not fill it) lstat.
unsigned char type_of(int dir, const char* name, unsigned char dtype) noexcept {
    if (dtype != DT_UNKNOWN) return dtype;
    struct stat st {};
    if (::fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return DT_UNKNOWN;
    return static_cast<unsigned char>(IFTODT(st.st_mode));
}

// Appends "/name" (or "name" at the root) to the walk's path; false when it would not fit.
bool push(Walk& w, const char* name) noexcept {
    size_t n = std::strlen(name);
    size_t sep = w.len > 0 ? 1 : 0;
    if (w.len + sep + n + 1 > w.path.size()) return false;
    if (sep != 0) w.path[w.len] = '/';
    std::memcpy(w.path.data() + w.len + sep, name, n + 1);
    w.len += sep + n;
    return true;
}

void pop(Walk& w, size_t len) noexcept {
    w.len = len;
    w.path[len] = 0;
}

bool walk_dir(int fd, Walk& w, int depth) noexcept {
    if (depth > kMaxDepth) return w.e->fail("walk (too deep)", w.path.data(), ELOOP);
    alignas(dirent64) std::array<char, kDentBuf> buf{};
    for (;;) {
        ssize_t n = ::getdents64(fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return w.e->fail("getdents64", w.path.data(), errno);
        if (n == 0) return true;
        for (ssize_t off = 0; off < n;) {
            const auto* d = reinterpret_cast<const dirent64*>(buf.data() + off);
            off += d->d_reclen;
            if (dot(d->d_name)) continue;
            size_t keep = w.len;
            if (!push(w, d->d_name))
                return w.e->fail("walk (path too long)", w.path.data(), ENAMETOOLONG);
            unsigned char type = type_of(fd, d->d_name, d->d_type);
            if (type == DT_UNKNOWN) return w.e->fail("lstat", w.path.data(), errno);
            if (!w.visit(w.ctx, fd, d->d_name, type, w.path.data(), *w.e)) return false;
            if (type == DT_DIR) {
                int sub = ::openat(fd, d->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0) return w.e->fail("open", w.path.data(), errno);
                bool ok = walk_dir(sub, w, depth + 1);
                ::close(sub);
                if (!ok) return false;
            }
            pop(w, keep);
        }
    }
}

// Appends "/name" to the path of a removal; one that would not fit (a tree removed by fds
// may be deeper than a path can name) ends in "/..." instead, with what fits.
void push_or_mark(Walk& w, const char* name) noexcept {
    if (push(w, name)) return;
    constexpr std::string_view kMark = "/...";
    size_t at = std::min(w.len, w.path.size() - kMark.size() - 1);
    std::memcpy(w.path.data() + at, kMark.data(), kMark.size());
    w.path[at + kMark.size()] = 0;
    w.len = at + kMark.size();
}

// Empties the open directory `fd`, whose path (for errors) is the walk's.
bool empty_dir(int fd, Walk& w, int depth) noexcept {
    RawError& e = *w.e;
    if (depth > kMaxDepth) return e.fail("remove (too deep)", w.path.data(), ELOOP);
    alignas(dirent64) std::array<char, kDentBuf> buf{};
    // Entries removed while the directory is read: read again from the start until a pass
    // finds nothing left.
    for (bool removed = true; removed;) {
        removed = false;
        if (::lseek(fd, 0, SEEK_SET) != 0) return e.fail("lseek", w.path.data(), errno);
        for (;;) {
            ssize_t n = ::getdents64(fd, buf.data(), buf.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return e.fail("getdents64", w.path.data(), errno);
            if (n == 0) break;
            for (ssize_t off = 0; off < n;) {
                const auto* d = reinterpret_cast<const dirent64*>(buf.data() + off);
                off += d->d_reclen;
                if (dot(d->d_name)) continue;
                removed = true;
                size_t keep = w.len;
                push_or_mark(w, d->d_name);
                if (type_of(fd, d->d_name, d->d_type) == DT_DIR) {
                    int sub =
                        ::openat(fd, d->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                    if (sub < 0) return e.fail("open", w.path.data(), errno);
                    bool ok = empty_dir(sub, w, depth + 1);
                    ::close(sub);
                    if (!ok) return false;
                    if (::unlinkat(fd, d->d_name, AT_REMOVEDIR) != 0 && errno != ENOENT)
                        return e.fail("rmdir", w.path.data(), errno);
                } else if (::unlinkat(fd, d->d_name, 0) != 0 && errno != ENOENT) {
                    return e.fail("unlink", w.path.data(), errno);
                }
                pop(w, keep);
            }
        }
    }
    return true;
}

}  // namespace

bool RawError::fail(const char* what, const char* where, int errnum) noexcept {
    if (err != 0) return false;
    err = errnum != 0 ? errnum : EIO;
    std::strncpy(step.data(), what, step.size() - 1);
    std::strncpy(path.data(), where, path.size() - 1);
    return false;
}

bool walk_tree_raw(int dirfd, RawVisit visit, void* ctx, RawError& e) noexcept {
    Walk w;
    w.visit = visit;
    w.ctx = ctx;
    w.e = &e;
    return walk_dir(dirfd, w, 0);
}

bool remove_tree_raw(int parent, const char* name, RawError& e) noexcept {
    struct stat st {};
    if (::fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? true : e.fail("lstat", name, errno);
    if (!S_ISDIR(st.st_mode)) {
        if (::unlinkat(parent, name, 0) != 0 && errno != ENOENT)
            return e.fail("unlink", name, errno);
        return true;
    }
    int fd = ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return e.fail("open", name, errno);
    Walk w;
    w.e = &e;
    push_or_mark(w, name);
    bool ok = empty_dir(fd, w, 0);
    ::close(fd);
    if (!ok) return false;
    if (::unlinkat(parent, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
        return e.fail("rmdir", name, errno);
    return true;
}

}  // namespace husk::sys
