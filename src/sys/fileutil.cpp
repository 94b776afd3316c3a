#include "sys/fileutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/fd.h"

namespace husk::sys {

std::string read_file(const std::string& path) {
    auto s = read_file_if_exists(path);
    if (!s) throw_sys("open", path, ENOENT);
    return *s;
}

std::optional<std::string> read_file_if_exists(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) return std::nullopt;
        throw_sys("open", path);
    }
    return read_to_end(fd.get(), path);
}

std::string read_to_end(int fd, const std::string& path) {
    std::string out;
    // 8 KiB: the files read on husk-runtime's start path (config.json, state.json, /proc)
    // fit, and 64 KiB of stack put each read pages below everything else the process
    // touches (a page fault each, copy-on-write after the init's clone).
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_sys("read", path);
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

static void write_fd(int fd, std::string_view data, const std::string& path) {
    size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::write(fd, data.data() + off, data.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_sys("write", path);
        off += static_cast<size_t>(n);
    }
}

void write_file(const std::string& path, const std::string& data, int mode) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (!fd) throw_sys("open", path);
    write_fd(fd.get(), data, path);
}

namespace {
// `data` in a file with no name yet in `dir` (O_TMPFILE): a writer killed while it writes
// or flushes leaves nothing behind. Not open where the filesystem or kernel has no
// O_TMPFILE; then the caller writes a named temporary file.
UniqueFd unnamed_file(const std::string& dir, std::string_view data, int mode, bool sync,
                      const std::string& path) {
    UniqueFd fd(::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, mode));
    if (!fd) return fd;
    write_fd(fd.get(), data, path);
    if (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0) throw_sys("chmod", path);
    if (sync && ::fsync(fd.get()) != 0) throw_sys("fsync", path);
    return fd;
}
}  // namespace

namespace {
// write_file_atomic and replace_file_unflushed: `exchange` swaps the names of the new file
// and the old (renameat2 RENAME_EXCHANGE) and unlinks the old, where a rename over it
// would make ext4 write the new file's data out at once (auto_da_alloc).
void write_atomic(const std::string& path, std::string_view data, int mode, bool sync,
                  bool exchange) {
    std::string tmp = path + unique_name(".tmp-");
    auto rename_into_place = [&] {
        if (exchange) {
            if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_EXCHANGE) == 0) {
                // `path` is the new file; the old one, now under the temporary name, is
                // garbage: one left by a failed unlink goes with its directory.
                ::unlink(tmp.c_str());
                return;
            }
            // No old file (ENOENT), or a filesystem without exchange: a plain rename.
            if (errno != ENOENT && errno != EINVAL && errno != ENOSYS) {
                int err = errno;
                ::unlink(tmp.c_str());
                throw_sys("rename", tmp, err);
            }
        }
        if (::rename(tmp.c_str(), path.c_str()) != 0) {
            int err = errno;
            ::unlink(tmp.c_str());
            throw_sys("rename", tmp, err);
        }
    };
    size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    if (UniqueFd fd = unnamed_file(dir, data, mode, sync, path)) {
        // Named only once whole: a kill from here on leaves at most a complete file.
        std::string self = fmt::format("/proc/self/fd/{}", fd.get());
        if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, tmp.c_str(), AT_SYMLINK_FOLLOW) == 0) {
            rename_into_place();
            return;
        }
        // No /proc mounted: a named temporary file, as below.
    }
    {
        UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
        if (!fd) throw_sys("open", tmp);
        try {
            write_fd(fd.get(), data, tmp);
            if (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0) throw_sys("chmod", tmp);
            if (sync && ::fsync(fd.get()) != 0) throw_sys("fsync", tmp);
        } catch (...) {
            ::unlink(tmp.c_str());
            throw;
        }
    }
    rename_into_place();
}
}  // namespace

void write_file_atomic(const std::string& path, std::string_view data, int mode, bool sync) {
    write_atomic(path, data, mode, sync, false);
}

void replace_file_unflushed(const std::string& path, std::string_view data, int mode) {
    write_atomic(path, data, mode, false, true);
}

bool mkdir_all(const std::string& path, int mode) {
    if (path.empty()) return false;
    bool created = false;
    for (size_t pos = 1; pos <= path.size(); ++pos) {
        if (pos != path.size() && path[pos] != '/') continue;
        std::string part = path.substr(0, pos);
        if (::mkdir(part.c_str(), static_cast<mode_t>(mode)) == 0) {
            created = pos == path.size();
        } else if (errno != EEXIST) {
            throw_sys("mkdir", part);
        } else {
            created = false;
        }
    }
    return created;
}

std::vector<DirEntry> list_dir_entries(const std::string& path, int dirfd) {
    UniqueFd fd(::openat(dirfd, path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) return {};
        throw_sys("open directory", path);
    }
    std::unique_ptr<DIR, int (*)(DIR*)> d(::fdopendir(fd.get()), ::closedir);
    if (!d) throw_sys("open directory", path);
    fd.release();  // the DIR owns it now
    std::vector<DirEntry> out;
    while (dirent* e = ::readdir(d.get())) {
        std::string_view n = e->d_name;
        if (n != "." && n != "..") out.push_back(DirEntry{std::string(n), e->d_type});
    }
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
    return out;
}

std::vector<std::string> list_dir(const std::string& path, int dirfd) {
    std::vector<std::string> out;
    for (auto& e : list_dir_entries(path, dirfd)) out.push_back(std::move(e.name));
    return out;
}

namespace {
uint64_t mount_id(int dirfd, const char* name, const std::string& where) {
    struct statx stx {};
    if (::statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH, STATX_MNT_ID, &stx) != 0)
        throw_sys("statx", where);
    return stx.stx_mnt_id;
}

// remove_all_at of `name` in `dirfd`; errors name the entry as `where` (its whole path
// when the caller knows it).
void remove_entry(int dirfd, const char* name, const std::string& where) {
    if (::unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) return;
    if (errno != EISDIR && errno != EPERM) throw_sys("unlink", where);
    UniqueFd d(::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    // A directory of ours without permissions (overlayfs' work/work is mode 0): given them.
    if (!d && errno == EACCES && ::fchmodat(dirfd, name, 0700, 0) == 0)
        d.reset(::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!d) {
        if (errno == ENOENT) return;
        throw_sys("open", where);
    }
    // Never delete through a mount point (an image's layers mounted in a container root,
    // a bind mount of the same filesystem: the device number would not tell).
    if (mount_id(d.get(), "", where) != mount_id(dirfd, dirfd == AT_FDCWD ? "." : "", where))
        throw Error(error_format("refusing to remove \"{}\": a mount point", where));
    // The names first, then the deletions: no directory stream open while it changes.
    for (auto& n : list_dir(".", d.get()))
        remove_entry(d.get(), n.c_str(), fmt::format("{}/{}", where, n));
    if (::unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT) throw_sys("rmdir", where);
}
}  // namespace

void remove_all_at(int dirfd, const char* name) {
    remove_entry(dirfd, name, name);
}

void remove_all(const std::string& path) {
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
        remove_entry(p.get(), base.c_str(), path);
    });
}

void fsync_path(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_sys("open", path);
    if (::fsync(fd.get()) != 0) throw_sys("fsync", path);
}

bool exists_follow(const std::string& path) {
    return ::access(path.c_str(), F_OK) == 0;
}

bool exists_nofollow(const std::string& path) {
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

void stdin_from_dev_null() {
    int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw_sys("open", "/dev/null");
    ::dup2(fd, STDIN_FILENO);
    ::close(fd);
}

std::string find_on_path(const std::string& name) {
    const char* env = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe)
    std::string path = env != nullptr && *env != '\0' ? env : "/usr/local/bin:/usr/bin:/bin";
    for (size_t i = 0; i <= path.size();) {
        size_t j = path.find(':', i);
        if (j == std::string::npos) j = path.size();
        std::string dir = path.substr(i, j - i);
        std::string p = (dir.empty() ? std::string(".") : dir) + "/" + name;
        if (::access(p.c_str(), X_OK) == 0) return p;
        i = j + 1;
    }
    return {};
}

}  // namespace husk::sys
