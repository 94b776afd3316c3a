#include "inventory/tree.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <deque>

#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/safe_path.h"

namespace husk::inventory {

namespace {

// Directory entries of an open directory (the fd stays ours); errors start with `what`.
std::vector<std::string> list(int dirfd, const std::string& what) {
    return with_context(what, [&] { return sys::list_dir(".", dirfd); });
}

// overlayfs' xattrs, or fuse-overlayfs' in a container's upper directory (its xattr, or
// its .wh..wh..opq file where it could not set one)
bool is_opaque(int dirfd) {
    char v[2];
    for (const char* name :
         {"trusted.overlay.opaque", "user.overlay.opaque", "user.fuseoverlayfs.opaque"})
        if (::fgetxattr(dirfd, name, v, sizeof v) == 1 && v[0] == 'y') return true;
    return ::faccessat(dirfd, ".wh..wh..opq", F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

std::string join(std::string_view a, std::string_view b) {
    if (a.empty()) return std::string(b);
    std::string s(a);
    s += '/';
    s += b;
    return s;
}

}  // namespace

std::pair<std::string_view, std::string_view> split_last(std::string_view path) {
    auto slash = path.rfind('/');
    if (slash == std::string_view::npos) return {{}, path};
    return {path.substr(0, slash), path.substr(slash + 1)};
}

std::string read_fd(int fd, std::string_view what) {
    std::string out;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_size > 0) out.reserve(static_cast<size_t>(st.st_size));
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_sys("read", what);
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

Tree::Tree(const std::vector<LayerRef>& layers) : layers_(layers) {
    for (auto& l : layers_) {
        int fd = ::open(l.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) throw_sys("open layer", l.dir);
        fds_.emplace_back(fd);
    }
    for (int i = static_cast<int>(layers_.size()) - 1; i >= 0; --i)
        walk(i, fds_[static_cast<size_t>(i)].get(), "");
}

void Tree::walk(int layer, int dirfd, const std::string& prefix) {
    const std::string& base = layers_[static_cast<size_t>(layer)].dir;
    for (auto& name : list(dirfd, join(base, prefix))) {
        std::string path = join(prefix, name);
        if (gone_.count(path) != 0) continue;
        struct stat st {};
        if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            throw_sys("stat", join(base, path));
        auto it = entries_.find(path);
        if (it == entries_.end()) {
            if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
                gone_.emplace(path, layer);
                continue;
            }
            Entry e{layer, st.st_mode, {}};
            if (S_ISLNK(st.st_mode)) {
                std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
                ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
                if (n < 0) throw_sys("readlink", join(base, path));
                target.resize(static_cast<size_t>(n));
                e.link = std::move(target);
            }
            it = entries_.emplace(path, std::move(e)).first;
        } else if (!S_ISDIR(it->second.mode) || !S_ISDIR(st.st_mode) || opaque_.count(path) != 0) {
            continue;  // hidden by the layer above
        }
        if (!S_ISDIR(st.st_mode)) continue;
        int sub = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) throw_sys("open", join(base, path));
        sys::UniqueFd subfd(sub);
        walk(layer, subfd.get(), path);
        if (is_opaque(subfd.get())) opaque_.emplace(path, layer);
    }
}

const Entry* Tree::find(std::string_view path) const {
    auto it = entries_.find(std::string(path));
    return it == entries_.end() ? nullptr : &it->second;
}

std::optional<std::string> Tree::resolve(std::string_view path, bool follow_last) const {
    std::deque<std::string> todo;
    auto push_parts = [&todo](std::string_view p, bool front) {
        std::vector<std::string> parts;
        size_t i = 0;
        while (i <= p.size()) {
            size_t j = p.find('/', i);
            if (j == std::string_view::npos) j = p.size();
            if (j > i) parts.emplace_back(p.substr(i, j - i));
            i = j + 1;
        }
        if (front)
            todo.insert(todo.begin(), parts.begin(), parts.end());
        else
            todo.insert(todo.end(), parts.begin(), parts.end());
    };
    push_parts(path, false);
    std::string cur;
    int links = 0;
    while (!todo.empty()) {
        std::string c = std::move(todo.front());
        todo.pop_front();
        if (c == ".") continue;
        if (c == "..") {
            cur = std::string(split_last(cur).first);
            continue;
        }
        std::string next = join(cur, c);
        const Entry* e = find(next);
        if (e == nullptr) {
            if (!todo.empty()) return std::nullopt;
            return next;
        }
        if (S_ISLNK(e->mode) && (follow_last || !todo.empty())) {
            if (++links > 40) return std::nullopt;
            if (e->link.starts_with('/')) cur.clear();
            push_parts(e->link, true);
            continue;
        }
        cur = std::move(next);
    }
    return cur;
}

sys::UniqueFd Tree::open_in_layer(int layer, std::string_view path) const {
    std::string p(path);
    int fd = sys::open_in_root(fds_[static_cast<size_t>(layer)].get(), p.c_str(),
                               O_RDONLY | O_NOFOLLOW, RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV);
    if (fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP) return sys::UniqueFd();
    if (fd < 0) throw_sys("open", join(layers_[static_cast<size_t>(layer)].dir, p), -fd);
    return sys::UniqueFd(fd);
}

std::optional<std::string> Tree::read_in_layer(int layer, std::string_view path) const {
    sys::UniqueFd fd = open_in_layer(layer, path);
    if (!fd) return std::nullopt;
    struct stat st {};
    std::string what = join(layers_[static_cast<size_t>(layer)].dir, path);
    if (::fstat(fd.get(), &st) != 0) throw_sys("stat", what);
    if (!S_ISREG(st.st_mode)) return std::nullopt;
    return read_fd(fd.get(), what);
}

std::optional<std::string> Tree::read(std::string_view path) const {
    auto real = resolve(path);
    if (!real) return std::nullopt;
    const Entry* e = find(*real);
    if (e == nullptr || !S_ISREG(e->mode)) return std::nullopt;
    return read_in_layer(e->layer, *real);
}

bool Tree::removed_in_layer(int layer, std::string_view path) const {
    int root = fds_[static_cast<size_t>(layer)].get();
    std::string_view p = path;
    while (!p.empty()) {
        std::string s(p);
        struct stat st {};
        if (::fstatat(root, s.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(st.st_mode) &&
            st.st_rdev == makedev(0, 0))
            return true;
        p = split_last(p).first;
    }
    return false;
}

}  // namespace husk::inventory
