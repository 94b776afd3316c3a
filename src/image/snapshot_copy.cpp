// The copying fallback of overlayfs: layers applied one after the other onto a
// plain directory, whiteouts and opaque directories interpreted, owners shifted
// for user-namespaced containers.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <vector>

#include <fmt/format.h>

#include "image/store.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"

namespace husk::image {
namespace {

using sys::UniqueFd;

struct Copier {
    const std::optional<IdShift>& shift;
    // hardlinks within one layer: (dev, ino) of the source -> path made in dst
    std::map<std::pair<dev_t, ino_t>, std::pair<int, std::string>> links;
    std::vector<UniqueFd> keep;  // dirfds referenced by `links`
    bool shallow = false;        // a directory without its contents

    uid_t uid(uid_t u) const { return shift ? shift->host_uid(u) : u; }
    gid_t gid(gid_t g) const { return shift ? shift->host_gid(g) : g; }

    static bool is_whiteout(const struct stat& st) {
        return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
    }

    static bool is_opaque(int fd) { return is_opaque_dir(fd); }

    static void copy_xattrs(int src, int dst, const std::string& path) {
        char names[65536];
        ssize_t len = ::flistxattr(src, names, sizeof names);
        if (len <= 0) return;
        for (const char* n = names; n < names + len; n += strlen(n) + 1) {
            if (is_overlay_xattr(n)) continue;
            char val[65536];
            ssize_t vl = ::fgetxattr(src, n, val, sizeof val);
            if (vl < 0) continue;
            if (::fsetxattr(dst, n, val, static_cast<size_t>(vl), 0) != 0 && errno != ENOTSUP)
                throw_sys(fmt::format("setxattr {}", n), path);
        }
    }

    // copy_file_range where the two file systems allow it (not from overlayfs to
    // another one: EXDEV), else read and write.
    static void copy_data(int s, int d, off_t size, const std::string& path) {
        bool ranges = true;
        char buf[65536];
        for (off_t left = size; left > 0;) {
            ssize_t n = -1;
            if (ranges) {
                n = ::copy_file_range(s, nullptr, d, nullptr, static_cast<size_t>(left), 0);
                if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP)) {
                    ranges = false;
                    continue;
                }
            } else {
                n = ::read(s, buf, sizeof buf);
                for (ssize_t done = 0; n > 0 && done < n;) {
                    ssize_t w = ::write(d, buf + done, static_cast<size_t>(n - done));
                    if (w < 0 && errno != EINTR) throw_sys("write", path);
                    done += std::max<ssize_t>(w, 0);
                }
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw_sys("copy", path);
            if (n == 0) break;  // the file shrank meanwhile
            left -= n;
        }
    }

    void meta(int dirfd, const char* name, const struct stat& st, const std::string& path) {
        if (::fchownat(dirfd, name, uid(st.st_uid), gid(st.st_gid), AT_SYMLINK_NOFOLLOW) != 0)
            throw_sys("chown", path);
        if (!S_ISLNK(st.st_mode) && ::fchmodat(dirfd, name, st.st_mode & 07777, 0) != 0)
            throw_sys("chmod", path);
        timespec ts[2] = {st.st_atim, st.st_mtim};
        if (::utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW) != 0) throw_sys("utimens", path);
    }

    void copy_dir(int src, int dst, const std::string& path) {
        for (auto& n : sys::list_dir(".", src))
            copy_entry(src, dst, n.c_str(), fmt::format("{}/{}", path, n));
    }

    void copy_entry(int sdir, int ddir, const char* name, const std::string& path) {
        struct stat st {};
        if (::fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) throw_sys("stat", path);
        struct stat dst {};
        bool have = ::fstatat(ddir, name, &dst, AT_SYMLINK_NOFOLLOW) == 0;
        if (is_whiteout(st)) {
            if (have) sys::remove_all_at(ddir, name);
            return;
        }
        if (S_ISDIR(st.st_mode)) {
            UniqueFd s(::openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!s) throw_sys("open", path);
            if (have && (!S_ISDIR(dst.st_mode) || is_opaque(s.get()))) {
                sys::remove_all_at(ddir, name);
                have = false;
            }
            if (!have && ::mkdirat(ddir, name, 0700) != 0) throw_sys("mkdir", path);
            UniqueFd d(::openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!d) throw_sys("open", path);
            if (!shallow) copy_dir(s.get(), d.get(), path);
            copy_xattrs(s.get(), d.get(), path);
            meta(ddir, name, st, path);
            return;
        }
        if (have) sys::remove_all_at(ddir, name);
        if (st.st_nlink > 1 && !S_ISDIR(st.st_mode)) {
            auto it = links.find({st.st_dev, st.st_ino});
            if (it != links.end()) {
                if (::linkat(it->second.first, it->second.second.c_str(), ddir, name, 0) != 0)
                    throw_sys("link", path);
                return;
            }
        }
        if (S_ISREG(st.st_mode)) {
            UniqueFd s(::openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
            if (!s) throw_sys("open", path);
            UniqueFd d(
                ::openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
            if (!d) throw_sys("create", path);
            copy_data(s.get(), d.get(), st.st_size, path);
            if (::fchown(d.get(), uid(st.st_uid), gid(st.st_gid)) != 0) throw_sys("chown", path);
            if (::fchmod(d.get(), st.st_mode & 07777) != 0) throw_sys("chmod", path);
            copy_xattrs(s.get(), d.get(), path);
            timespec ts[2] = {st.st_atim, st.st_mtim};
            if (::futimens(d.get(), ts) != 0) throw_sys("utimens", path);
        } else if (S_ISLNK(st.st_mode)) {
            std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
            ssize_t n = ::readlinkat(sdir, name, target.data(), target.size());
            if (n < 0) throw_sys("readlink", path);
            target.resize(static_cast<size_t>(n));
            if (::symlinkat(target.c_str(), ddir, name) != 0) throw_sys("symlink", path);
            meta(ddir, name, st, path);
        } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
            if (::mknodat(ddir, name, st.st_mode & (S_IFMT | 07777), st.st_rdev) != 0)
                throw_sys("mknod", path);
            meta(ddir, name, st, path);
        } else {
            return;  // sockets
        }
        if (st.st_nlink > 1) {
            keep.emplace_back(::fcntl(ddir, F_DUPFD_CLOEXEC, 0));
            links[{st.st_dev, st.st_ino}] = {keep.back().get(), name};
        }
    }
};

}  // namespace

void copy_tree(int src, int dst, const std::optional<IdShift>& shift) {
    Copier c{shift, {}, {}, false};
    c.copy_dir(src, dst, "");
}

void copy_node(int src_dir, int dst_dir, const char* name, const std::string& path) {
    const std::optional<IdShift> none;
    Copier c{none, {}, {}, true};
    c.copy_entry(src_dir, dst_dir, name, path);
}

void apply_layer_copy(const std::string& src, const std::string& dst,
                      const std::optional<IdShift>& shift) {
    with_context(fmt::format("copy layer \"{}\" onto \"{}\"", src, dst), [&] {
        UniqueFd s(::open(src.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!s) throw_sys("open", src);
        UniqueFd d(::open(dst.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!d) throw_sys("open", dst);
        copy_tree(s.get(), d.get(), shift);
    });
}

}  // namespace husk::image
