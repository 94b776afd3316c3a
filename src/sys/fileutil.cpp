#include "sys/fileutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/fd.h"

namespace husk::sys {

std::string read_file(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_sys("open", path);
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_sys("read", path);
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

static void write_fd(int fd, const std::string& data, const std::string& path) {
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

void write_file_atomic(const std::string& path, const std::string& data, int mode, bool sync) {
    std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
    {
        UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
        if (!fd) throw_sys("open", tmp);
        try {
            write_fd(fd.get(), data, tmp);
            if (sync && ::fsync(fd.get()) != 0) throw_sys("fsync", tmp);
        } catch (...) {
            ::unlink(tmp.c_str());
            throw;
        }
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        throw_sys("rename", path, err);
    }
}

bool mkdir_all(const std::string& path, int mode) {
    if (path.empty()) return false;
    bool created = false;
    for (size_t pos = 1; pos <= path.size(); ++pos) {
        if (pos != path.size() && path[pos] != '/') continue;
        std::string part = path.substr(0, pos);
        if (::mkdir(part.c_str(), mode) == 0) {
            created = pos == path.size();
        } else if (errno != EEXIST) {
            throw_sys("mkdir", part);
        } else {
            created = false;
        }
    }
    return created;
}

std::vector<std::string> list_dir(const std::string& path) {
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(path.c_str()), ::closedir);
    if (!d) {
        if (errno == ENOENT) return {};
        throw_sys("open directory", path);
    }
    std::vector<std::string> out;
    while (dirent* e = ::readdir(d.get())) {
        std::string_view n = e->d_name;
        if (n != "." && n != "..") out.emplace_back(n);
    }
    std::sort(out.begin(), out.end());
    return out;
}

static void remove_at(int dirfd, const char* name, dev_t dev, const std::string& shown) {
    struct stat st {};
    if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) return;
        throw_sys("stat", shown);
    }
    if (S_ISDIR(st.st_mode)) {
        if (st.st_dev != dev) throw Error(fmt::format("remove \"{}\": is a mount point", shown));
        int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) throw_sys("open", shown);
        DIR* d = ::fdopendir(fd);
        if (!d) {
            ::close(fd);
            throw_sys("fdopendir", shown);
        }
        try {
            while (dirent* e = ::readdir(d)) {
                std::string_view n = e->d_name;
                if (n == "." || n == "..") continue;
                remove_at(fd, e->d_name, dev, shown + "/" + e->d_name);
            }
        } catch (...) {
            ::closedir(d);
            throw;
        }
        ::closedir(d);
        if (::unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
            throw_sys("rmdir", shown);
    } else if (::unlinkat(dirfd, name, 0) != 0 && errno != ENOENT) {
        throw_sys("unlink", shown);
    }
}

void remove_all(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return;
        throw_sys("stat", path);
    }
    remove_at(AT_FDCWD, path.c_str(), st.st_dev, path);
}

bool exists(const std::string& path) {
    return ::access(path.c_str(), F_OK) == 0;
}

void stdin_from_dev_null() {
    int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw_sys("open", "/dev/null");
    ::dup2(fd, STDIN_FILENO);
    ::close(fd);
}

}  // namespace husk::sys
