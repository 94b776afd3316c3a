#include "image/fsutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include <fmt/format.h>

#include "sys/error.h"

namespace husk::image {

using sys::UniqueFd;

void write_file_atomic(const std::string& path, std::string_view data, unsigned mode, bool sync) {
    std::string tmp = path + unique_name(".tmp-");
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
    if (!fd) throw_sys("open", tmp);
    size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::write(fd.get(), data.data() + off, data.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            ::unlink(tmp.c_str());
            throw_sys("write", tmp, e);
        }
        off += static_cast<size_t>(n);
    }
    if (::fchmod(fd.get(), mode) != 0 || (sync && ::fsync(fd.get()) != 0)) {
        int e = errno;
        ::unlink(tmp.c_str());
        throw_sys("fsync", tmp, e);
    }
    fd.reset();
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        throw_sys("rename", tmp, e);
    }
}

void write_file_plain(const std::string& path, std::string_view data) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) throw_sys("open", path);
    if (::write(fd.get(), data.data(), data.size()) != static_cast<ssize_t>(data.size()))
        throw_sys("write", path);
}

std::optional<std::string> read_file_if_exists(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) return std::nullopt;
        throw_sys("open", path);
    }
    std::string out;
    char buf[65536];
    while (true) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_sys("read", path);
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

std::string read_file(const std::string& path) {
    auto s = read_file_if_exists(path);
    if (!s) throw_sys("open", path, ENOENT);
    return *s;
}

void mkdir_p(const std::string& path, unsigned mode) {
    if (path.empty()) return;
    size_t pos = 0;
    while (true) {
        pos = path.find('/', pos + 1);
        std::string part = path.substr(0, pos);
        if (::mkdir(part.c_str(), mode) != 0 && errno != EEXIST) throw_sys("mkdir", part);
        if (pos == std::string::npos) break;
    }
}

namespace {
uint64_t mount_id(int dirfd, const char* name) {
    struct statx stx {};
    if (::statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH, STATX_MNT_ID, &stx) != 0)
        throw_sys("statx", name);
    return stx.stx_mnt_id;
}
}  // namespace

void remove_tree_at(int dirfd, const char* name) {
    if (::unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) return;
    if (errno != EISDIR && errno != EPERM) throw_sys("unlink", name);
    UniqueFd d(::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!d) {
        if (errno == ENOENT) return;
        throw_sys("open", name);
    }
    // Never delete through a mount point (an image's layers mounted in a container root).
    if (mount_id(d.get(), "") != mount_id(dirfd, dirfd == AT_FDCWD ? "." : ""))
        throw Error(fmt::format("refusing to remove \"{}\": a mount point", name));
    // Collect names first: deleting while reading a directory stream is allowed but
    // the fd below is handed to fdopendir, which owns it.
    std::vector<std::string> names;
    {
        int dup = ::fcntl(d.get(), F_DUPFD_CLOEXEC, 0);
        DIR* dir = ::fdopendir(dup);
        if (dir == nullptr) {
            ::close(dup);
            throw_sys("opendir", name);
        }
        while (dirent* e = ::readdir(dir)) {
            std::string_view n = e->d_name;
            if (n != "." && n != "..") names.emplace_back(n);
        }
        ::closedir(dir);
    }
    for (auto& n : names) remove_tree_at(d.get(), n.c_str());
    if (::unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT) throw_sys("rmdir", name);
}

void remove_tree(const std::string& path) {
    if (path.empty() || path == "/") throw Error(fmt::format("refusing to remove \"{}\"", path));
    with_context(fmt::format("remove \"{}\"", path), [&] {
        size_t slash = path.rfind('/');
        std::string parent =
            slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
        std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
        UniqueFd p(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!p) {
            if (errno == ENOENT) return;
            throw_sys("open", parent);
        }
        remove_tree_at(p.get(), base.c_str());
    });
}

void fsync_path(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_sys("open", path);
    if (::fsync(fd.get()) != 0) throw_sys("fsync", path);
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

std::string unique_name(std::string_view prefix) {
    unsigned char r[8];
    if (::getrandom(r, sizeof r, 0) != sizeof r) throw_sys("getrandom");
    std::string out(prefix);
    for (unsigned char c : r) out += fmt::format("{:02x}", c);
    return out;
}

FileLock::FileLock(const std::string& path, Mode mode) {
    fd_.reset(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd_) throw_sys("open", path);
    while (::flock(fd_.get(), mode == shared ? LOCK_SH : LOCK_EX) != 0) {
        if (errno != EINTR) throw_sys("flock", path);
    }
}

std::optional<FileLock> FileLock::try_lock(const std::string& path, Mode mode) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd) throw_sys("open", path);
    while (::flock(fd.get(), (mode == shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) return std::nullopt;
        if (errno != EINTR) throw_sys("flock", path);
    }
    return FileLock(std::move(fd));
}

}  // namespace husk::image
