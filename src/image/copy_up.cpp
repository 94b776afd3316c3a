#include "image/copy_up.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include "image/idshift.h"
#include "image/unpack.h"
#include "sys/fd.h"
#include "sys/syscalls.h"

namespace husk::image {
namespace {

using sys::RawError;
using sys::UniqueFd;

// --- child side: runs in the owner shift's child between fork and _exit ---

// Lookups in the layers follow no symlink (as overlayfs does not across layers).
constexpr uint64_t kLayerResolve =
    RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS;
constexpr size_t kMaxPath = 4096;
constexpr size_t kMaxComponents = kMaxPath / 2;
constexpr size_t kXattrBuf = 65536;

// The path copied up, its components, and a buffer for one prefix of it at a time.
struct UpPath {
    std::array<char, kMaxPath> full{};
    std::array<char, kMaxPath> pre{};
    std::array<uint16_t, kMaxComponents> ends{};  // where each component ends in `full`
    size_t count = 0;

    bool set(const char* path) noexcept {
        size_t len = std::strlen(path);
        if (len == 0 || len >= full.size()) return false;
        std::memcpy(full.data(), path, len + 1);
        for (size_t i = 0; i <= len; ++i)
            if (full[i] == '/' || full[i] == 0) ends[count++] = static_cast<uint16_t>(i);
        return true;
    }
    // The path up to and with component `i`.
    const char* prefix(size_t i) noexcept {
        std::memcpy(pre.data(), full.data(), ends[i]);
        pre[ends[i]] = 0;
        return pre.data();
    }
    // Component `i` alone (in the prefix buffer: valid until the next prefix).
    const char* name(size_t i) noexcept { return prefix(i) + (i == 0 ? 0 : ends[i - 1] + 1); }
};

struct Layers {
    int top;
    const int* lowers;
    size_t n;
    size_t count() const noexcept { return n + 1; }
    int root(size_t i) const noexcept { return i == 0 ? top : lowers[i - 1]; }
};

int open_in(int root, const char* path, int flags) noexcept {
    return sys::openat2(root, path, static_cast<uint64_t>(flags) | O_CLOEXEC, 0, kLayerResolve);
}

// What the layer `root` has at `path` (probe_layer, without allocating); false on a failure.
bool probe_raw(int root, const char* path, LayerNode& node, RawError& e) noexcept {
    UniqueFd fd(open_in(root, path, O_PATH | O_NOFOLLOW));
    if (!fd) {
        if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
            return e.fail("open", path, errno);
        node = LayerNode::absent;
        return true;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return e.fail("stat", path, errno);
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
        node = LayerNode::whiteout;
    } else if (!S_ISDIR(st.st_mode)) {
        node = LayerNode::other;
    } else {
        UniqueFd dir(::openat(fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!dir) return e.fail("open", path, errno);
        node = is_opaque_dir(dir.get()) ? LayerNode::opaque_dir : LayerNode::dir;
    }
    return true;
}

// Where the first `count` components of `p` show (find_in_layers); false on a failure.
bool find_raw(const Layers& ls, UpPath& p, size_t count, std::optional<LayerHit>& hit,
              RawError& e) noexcept {
    bool failed = false;
    hit = find_in_layers_by(count, ls.count(), [&](size_t li, size_t i) {
        LayerNode n = LayerNode::whiteout;  // a failure stops the walk
        if (!probe_raw(ls.root(li), p.prefix(i), n, e)) failed = true;
        return n;
    });
    return !failed;
}

void put_number(char*& out, uint32_t v, uint32_t base) noexcept {
    std::array<char, 16> digits{};
    size_t n = 0;
    do {
        digits[n++] = static_cast<char>('0' + v % base);
        v /= base;
    } while (v != 0);
    while (n > 0) *out++ = digits[--n];
}

// The copy `dst` of `src` (whose stat is `st`) given the owner record the unpacker would
// give it (unpack.cpp's record_owner): `src`'s own record, or its owner in the container:
// as this process sees it, with this process's ids the container's root (no record for
// root's), or, given `host` (this process sees host ids: no namespace), through its maps.
bool record_owner_raw(int src, int dst, const struct stat& st, const char* where,
                      const UserRanges* host, RawError& e) noexcept {
    std::array<char, 64> v{};
    ssize_t n = ::fgetxattr(src, kOverrideStatXattr, v.data(), v.size());
    if (n < 0) {
        if (errno != ENODATA && errno != ENOTSUP) return e.fail("getxattr", where, errno);
        uint32_t uid = st.st_uid == ::geteuid() ? 0 : st.st_uid;
        uint32_t gid = st.st_gid == ::getegid() ? 0 : st.st_gid;
        if (host != nullptr) {
            uid = container_id_of(host->uids, st.st_uid);
            gid = container_id_of(host->gids, st.st_gid);
        }
        if (uid == 0 && gid == 0) return true;
        char* out = v.data();
        put_number(out, uid, 10);
        *out++ = ':';
        put_number(out, gid, 10);
        *out++ = ':';
        *out++ = '0';
        put_number(out, st.st_mode & 07777, 8);
        n = out - v.data();
    }
    if (::fsetxattr(dst, kOverrideStatXattr, v.data(), static_cast<size_t>(n), 0) != 0)
        return e.fail("setxattr", where, errno);
    return true;
}

// `src`'s xattrs on `dst` but overlayfs' own and the owner record; those a user may not
// set (security.capability, trusted.*) skipped, as the unpacker skips them.
bool copy_xattrs_raw(int src, int dst, const char* where, RawError& e) noexcept {
    std::array<char, kXattrBuf> names{};
    std::array<char, kXattrBuf> value{};
    ssize_t len = ::flistxattr(src, names.data(), names.size());
    if (len < 0) return errno == ENOTSUP ? true : e.fail("listxattr", where, errno);
    for (const char* n = names.data(); n < names.data() + len; n += std::strlen(n) + 1) {
        if (is_overlay_xattr(n) || std::string_view(n) == kOverrideStatXattr) continue;
        ssize_t vl = ::fgetxattr(src, n, value.data(), value.size());
        if (vl < 0 && errno == ENODATA) continue;
        if (vl < 0) return e.fail("getxattr", where, errno);
        if (::fsetxattr(dst, n, value.data(), static_cast<size_t>(vl), 0) != 0 &&
            errno != ENOTSUP && errno != EPERM)
            return e.fail("setxattr", where, errno);
    }
    return true;
}

bool copy_data_raw(int s, int d, const char* where, RawError& e) noexcept {
    std::array<char, kXattrBuf> buf{};
    bool ranges = true;
    for (;;) {
        ssize_t n = -1;
        if (ranges) {
            n = ::copy_file_range(s, nullptr, d, nullptr, size_t{1} << 30, 0);
            if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP)) {
                ranges = false;
                continue;
            }
        } else {
            n = ::read(s, buf.data(), buf.size());
            if (n > 0 && !sys::write_all(d, buf.data(), static_cast<size_t>(n)))
                return e.fail("write", where, errno);
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return e.fail("copy", where, errno);
        if (n == 0) return true;
    }
}

// A directory made by the copy: its mode and times, set when all below it is made.
struct MadeDir {
    size_t component;
    mode_t mode;
    std::array<timespec, 2> times;
};

// Directory `i` of `p` made in `cur` (an O_PATH fd of its parent in the top layer) from
// the layer `lower`: xattrs and record now, mode and times in `made` for later.
bool copy_dir_raw(int lower, int cur, UpPath& p, size_t i, const UserRanges* host, MadeDir& made,
                  RawError& e) noexcept {
    UniqueFd s(open_in(lower, p.prefix(i), O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
    if (!s) return e.fail("open", p.pre.data(), errno);
    struct stat st {};
    if (::fstat(s.get(), &st) != 0) return e.fail("stat", p.pre.data(), errno);
    const char* name = p.name(i);
    if (::mkdirat(cur, name, 0700) != 0) return e.fail("mkdir", p.prefix(i), errno);
    UniqueFd d(::openat(cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!d) return e.fail("open", p.prefix(i), errno);
    if (!copy_xattrs_raw(s.get(), d.get(), p.prefix(i), e) ||
        !record_owner_raw(s.get(), d.get(), st, p.prefix(i), host, e))
        return false;
    made = MadeDir{i, static_cast<mode_t>(st.st_mode & 07777), {st.st_atim, st.st_mtim}};
    return true;
}

// The non-directory, the last component of `p`, copied from the layer `lower` into `cur`:
// a regular file, a symlink or a fifo (the unpacker makes no other as a user).
bool copy_file_raw(int lower, int cur, UpPath& p, const UserRanges* host, RawError& e) noexcept {
    const size_t last = p.count - 1;
    UniqueFd node(open_in(lower, p.prefix(last), O_PATH | O_NOFOLLOW));
    if (!node) return e.fail("open", p.pre.data(), errno);
    struct stat st {};
    if (::fstat(node.get(), &st) != 0) return e.fail("stat", p.pre.data(), errno);
    const std::array<timespec, 2> ts{st.st_atim, st.st_mtim};
    if (S_ISLNK(st.st_mode) || S_ISFIFO(st.st_mode)) {
        std::array<char, kMaxPath> target{};
        ssize_t n = 0;
        if (S_ISLNK(st.st_mode)) {
            n = ::readlinkat(node.get(), "", target.data(), target.size() - 1);
            if (n < 0) return e.fail("readlink", p.pre.data(), errno);
        }
        const char* name = p.name(last);
        bool made = S_ISLNK(st.st_mode)
                        ? ::symlinkat(target.data(), cur, name) == 0
                        : ::mknodat(cur, name, S_IFIFO | (st.st_mode & 07777), 0) == 0;
        if (!made) return e.fail(S_ISLNK(st.st_mode) ? "symlink" : "mknod", p.prefix(last), errno);
        // mknod's mode went through the umask
        if (S_ISFIFO(st.st_mode) && ::fchmodat(cur, name, st.st_mode & 07777, 0) != 0)
            return e.fail("chmod", p.prefix(last), errno);
        if (::utimensat(cur, p.name(last), ts.data(), AT_SYMLINK_NOFOLLOW) != 0)
            return e.fail("utimens", p.prefix(last), errno);
        return true;
    }
    if (!S_ISREG(st.st_mode))
        return e.fail("copy up (a device node or socket)", p.pre.data(), EOPNOTSUPP);
    UniqueFd s(open_in(lower, p.prefix(last), O_RDONLY | O_NOFOLLOW | O_NONBLOCK));
    if (!s) return e.fail("open", p.pre.data(), errno);
    UniqueFd d(
        ::openat(cur, p.name(last), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    const char* where = p.prefix(last);
    if (!d) return e.fail("create", where, errno);
    if (!copy_data_raw(s.get(), d.get(), where, e) ||
        !copy_xattrs_raw(s.get(), d.get(), where, e) ||
        !record_owner_raw(s.get(), d.get(), st, where, host, e))
        return false;
    if (::fchmod(d.get(), st.st_mode & 07777) != 0) return e.fail("chmod", where, errno);
    if (::futimens(d.get(), ts.data()) != 0) return e.fail("utimens", where, errno);
    return true;
}

}  // namespace

bool copy_up_raw(int top, const int* lowers, size_t n, const char* path, const UserRanges* host,
                 RawError& e) noexcept {
    UpPath p;
    if (!p.set(path)) return e.fail("copy up (path too long)", path, ENAMETOOLONG);
    const Layers ls{top, lowers, n};
    std::optional<LayerHit> hit;
    if (!find_raw(ls, p, p.count, hit, e)) return false;
    if (!hit || hit->layer == 0) return e.fail("hardlink target", path, ENOENT);
    if (hit->node == LayerNode::dir || hit->node == LayerNode::opaque_dir)
        return e.fail("hardlink target", path, EISDIR);
    const int file_layer = ls.root(hit->layer);

    // the directories on the way: each one the top layer lacks made from the one showing it
    static_assert(kMaxComponents < 65536);
    std::array<MadeDir, kMaxComponents> made{};
    size_t nmade = 0;
    UniqueFd cur(::fcntl(top, F_DUPFD_CLOEXEC, 0));
    if (!cur) return e.fail("dup", "the layer's root", errno);
    for (size_t i = 0; i + 1 < p.count; ++i) {
        LayerNode here = LayerNode::absent;
        if (!probe_raw(top, p.prefix(i), here, e)) return false;
        if (here == LayerNode::absent) {
            std::optional<LayerHit> dir;
            if (!find_raw(ls, p, i + 1, dir, e)) return false;
            if (!dir || dir->layer == 0 ||
                (dir->node != LayerNode::dir && dir->node != LayerNode::opaque_dir))
                return e.fail("hardlink target directory", p.prefix(i), ENOENT);
            if (!copy_dir_raw(ls.root(dir->layer), cur.get(), p, i, host, made[nmade++], e))
                return false;
        } else if (here != LayerNode::dir && here != LayerNode::opaque_dir) {
            return e.fail("hardlink target directory", p.prefix(i), ENOTDIR);
        }
        cur.reset(open_in(top, p.prefix(i), O_PATH | O_DIRECTORY));
        if (!cur) return e.fail("open", p.pre.data(), errno);
    }
    if (!copy_file_raw(file_layer, cur.get(), p, host, e)) return false;

    // the modes and times of the directories made, deepest first (a 0555 one is written in
    // before it gets its mode; what was made in each changed its times)
    while (nmade > 0) {
        const MadeDir& m = made[--nmade];
        UniqueFd parent(m.component == 0
                            ? ::fcntl(top, F_DUPFD_CLOEXEC, 0)
                            : open_in(top, p.prefix(m.component - 1), O_PATH | O_DIRECTORY));
        if (!parent) return e.fail("open", m.component == 0 ? "." : p.pre.data(), errno);
        const char* name = p.name(m.component);
        if (::fchmodat(parent.get(), name, m.mode, 0) != 0)
            return e.fail("chmod", p.prefix(m.component), errno);
        if (::utimensat(parent.get(), p.name(m.component), m.times.data(), AT_SYMLINK_NOFOLLOW) !=
            0)
            return e.fail("utimens", p.prefix(m.component), errno);
    }
    return true;
}

// --- end child side ---

}  // namespace husk::image
