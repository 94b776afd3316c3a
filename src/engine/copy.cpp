#include "engine/copy.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/lifecycle.h"
#include "engine/rootless.h"
#include "image/store.h"
#include "image/unpack.h"
#include "sys/archive_ptr.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/safe_path.h"
#include "sys/user_dirs.h"

namespace husk::engine {

CopyEndpoint parse_copy_endpoint(const std::string& arg) {
    if (arg.starts_with("/")) return {"", arg};
    size_t colon = arg.find(':');
    if (colon == std::string::npos || arg.starts_with(".")) return {"", arg};
    if (colon == 0) throw Error(error_format("invalid container name in \"{}\"", arg));
    return {arg.substr(0, colon), arg.substr(colon + 1)};
}

namespace {

std::string trim_slashes(std::string p) {
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    return p;
}

std::string base_name(const std::string& path) {
    std::string p = trim_slashes(path);
    size_t slash = p.rfind('/');
    std::string b = slash == std::string::npos ? p : p.substr(slash + 1);
    return b.empty() || b == "/" ? "." : b;
}

std::string dir_name(const std::string& path) {
    std::string p = trim_slashes(path);
    size_t slash = p.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : p.substr(0, slash);
}

}  // namespace

CopyTarget copy_target(const std::string& src, bool src_is_dir, const std::string& dst,
                       std::optional<bool> dst_is_dir) {
    bool src_dot = src.ends_with("/.") || src == ".";
    if (dst_is_dir && *dst_is_dir) return {dst, src_is_dir && src_dot ? "." : base_name(src)};
    if (dst_is_dir) {  // a file (or another non-directory) is there
        if (src_is_dir) throw Error(error_format("cannot copy a directory to a file: \"{}\"", dst));
        if (dst.ends_with("/")) throw Error(error_format("\"{}\" is not a directory", dst));
        return {dir_name(dst), base_name(dst)};
    }
    if (dst.ends_with("/") && !src_is_dir)
        throw Error(error_format("destination directory \"{}\" must exist", dst));
    return {dir_name(dst), base_name(dst)};
}

namespace {

using Owner = std::function<std::pair<uid_t, gid_t>(uid_t, gid_t)>;

// This thread in a mount namespace of its own until the object goes, then back in the
// one it had: mounts made meanwhile are seen by nothing else and vanish with it.
class PrivateMounts {
  public:
    PrivateMounts() : old_(::open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC)) {
        if (!old_) throw_sys("open", "/proc/thread-self/ns/mnt");
        if (::unshare(CLONE_NEWNS) != 0) throw_sys("unshare the mount namespace");
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
            restore();
            throw_sys("make the mounts private", "/");
        }
    }
    ~PrivateMounts() { restore(); }
    PrivateMounts(PrivateMounts&&) noexcept = default;
    PrivateMounts& operator=(PrivateMounts&&) = delete;
    PrivateMounts(const PrivateMounts&) = delete;
    PrivateMounts& operator=(const PrivateMounts&) = delete;

  private:
    void restore() noexcept {
        if (old_) ::setns(old_.get(), CLONE_NEWNS);
        old_.reset();
    }
    sys::UniqueFd old_;
};

// Where paths are resolved: a container's root or the host's "/".
struct Root {
    std::optional<PrivateMounts> mounts;  // a stopped container's binds, mounted for cp
    sys::UniqueFd fd;
    std::string container;  // "" for the host
    std::string show(const std::string& path) const {
        return container.empty() ? path : fmt::format("{}:{}", container, path);
    }
};

// An entry of a copied tree, handed from the reader to the writer.
struct TreeEntry {
    std::string name;  // relative to the target directory: "f", "d", "d/x"
    struct stat st {};
    std::string link;      // a symlink's target
    std::string hardlink;  // a second name of a file: the name it came first under
    // A regular file's data: reads up to n bytes, 0 at its end.
    std::function<ssize_t(char*, size_t)> read;
};

class Sink {
  public:
    virtual ~Sink() = default;
    virtual void put(const TreeEntry& e) = 0;
    virtual void finish() = 0;
};

std::string or_empty(const char* s) {
    return s == nullptr ? std::string() : std::string(s);
}

std::string archive_message(archive* a) {
    const char* m = archive_error_string(a);
    return m == nullptr ? "error" : m;
}

ssize_t read_fd(int fd, char* buf, size_t n) {
    for (;;) {
        ssize_t r = ::read(fd, buf, n);
        if (r >= 0 || errno != EINTR) return r;
    }
}

// ---- reading a tree, never following a symlink below its top ----

// The names files with several links were first given, by device and inode: their later
// names become hard links, as in docker's tar streams.
using Links = std::map<std::pair<dev_t, ino_t>, std::string>;

void walk(int fd, const struct stat& st, const std::string& name, const std::string& shown,
          Sink& out, Links& links) {
    TreeEntry e;
    e.name = name;
    e.st = st;
    if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
        auto [it, first] = links.try_emplace({st.st_dev, st.st_ino}, name);
        if (!first) {
            e.hardlink = it->second;
            out.put(e);
            return;
        }
    }
    if (S_ISLNK(st.st_mode)) {
        char buf[PATH_MAX];
        ssize_t n = ::readlinkat(fd, "", buf, sizeof buf - 1);
        if (n < 0) throw_sys("readlink", shown);
        e.link.assign(buf, static_cast<size_t>(n));
        out.put(e);
        return;
    }
    if (S_ISREG(st.st_mode)) {
        char p[32];
        // the O_PATH fd reopened through its magic link: the file already resolved
        sys::UniqueFd data(::open(sys::fd_path(fd, p), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
        if (!data) throw_sys("open", shown);
        e.read = [&data](char* b, size_t n) { return read_fd(data.get(), b, n); };
        out.put(e);
        return;
    }
    if (S_ISSOCK(st.st_mode)) return;  // as docker's tar: sockets are not copied
    out.put(e);
    if (!S_ISDIR(st.st_mode)) return;
    sys::UniqueFd dir(::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) throw_sys("open directory", shown);
    for (auto& child : sys::list_dir_entries(".", dir.get())) {
        std::string cshown = fmt::format("{}/{}", shown, child.name);
        sys::UniqueFd c(::openat(dir.get(), child.name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        struct stat cst {};
        if (!c || ::fstat(c.get(), &cst) != 0) throw_sys("open", cshown);
        walk(c.get(), cst, name == "." ? child.name : fmt::format("{}/{}", name, child.name),
             cshown, out, links);
    }
}

// ---- a tar stream out (cp SRC -) ----

class TarSink : public Sink {
  public:
    TarSink(int fd, Owner owner) : a_(archive_write_new()), owner_(std::move(owner)) {
        archive_write_set_format_pax_restricted(a_.get());
        archive_write_set_bytes_in_last_block(a_.get(), 1);
        if (archive_write_open_fd(a_.get(), fd) != ARCHIVE_OK) fail("open");
    }
    void put(const TreeEntry& e) override {
        sys::ArchiveEntry ae(archive_entry_new());
        archive_entry_copy_stat(ae.get(), &e.st);
        auto [uid, gid] = owner_(e.st.st_uid, e.st.st_gid);
        archive_entry_set_uid(ae.get(), uid);
        archive_entry_set_gid(ae.get(), gid);
        archive_entry_copy_pathname(ae.get(), e.name.c_str());
        if (S_ISLNK(e.st.st_mode)) archive_entry_copy_symlink(ae.get(), e.link.c_str());
        if (!e.hardlink.empty()) {  // no data: the file's first entry has it
            archive_entry_copy_hardlink(ae.get(), e.hardlink.c_str());
            archive_entry_set_size(ae.get(), 0);
        }
        if (archive_write_header(a_.get(), ae.get()) != ARCHIVE_OK) fail(e.name);
        if (!e.read || !e.hardlink.empty()) return;
        char buf[65536];
        for (;;) {
            ssize_t n = e.read(buf, sizeof buf);
            if (n < 0) throw_sys("read", e.name);
            if (n == 0) break;
            if (archive_write_data(a_.get(), buf, static_cast<size_t>(n)) != n) fail(e.name);
        }
    }
    void finish() override {
        if (archive_write_close(a_.get()) != ARCHIVE_OK) fail("close");
    }

  private:
    [[noreturn]] void fail(const std::string& what) {
        throw Error(error_format("write tar stream: {}: {}", what, archive_message(a_.get())));
    }
    sys::ArchiveWriter a_;
    Owner owner_;
};

// ---- writing entries below a directory of a root ----

class DiskSink : public Sink {
  public:
    DiskSink(const Root& root, std::string dir, Owner owner)
        : root_(root), dir_(std::move(dir)), owner_(std::move(owner)) {}

    void put(const TreeEntry& e) override {
        std::string path = e.name == "."         ? dir_
                           : dir_.ends_with("/") ? dir_ + e.name
                                                 : fmt::format("{}/{}", dir_, e.name);
        std::string shown = root_.show(path);
        if (e.name == ".") {  // the target directory itself: its contents merge into it
            if (!S_ISDIR(e.st.st_mode))
                throw Error(error_format("cannot overwrite directory \"{}\"", shown));
            return;
        }
        char leaf[NAME_MAX + 1];
        sys::UniqueFd parent(
            sys::parent_in_root(root_.fd.get(), path.c_str(), leaf, sizeof leaf, false, 0755));
        if (!parent) throw_sys("open", root_.show(dir_name(path)), -parent.release());
        auto [uid, gid] = owner_(e.st.st_uid, e.st.st_gid);
        struct stat old {};
        bool exists = ::fstatat(parent.get(), leaf, &old, AT_SYMLINK_NOFOLLOW) == 0;
        if (exists && S_ISDIR(old.st_mode) && !S_ISDIR(e.st.st_mode))
            throw Error(
                error_format("cannot overwrite directory \"{}\" with non-directory", shown));
        // anything else there is replaced, as docker's untar does: a symlink is not
        // followed (nor refused by O_NOFOLLOW), a file's other hard links keep their data
        if (exists && !S_ISDIR(old.st_mode)) {
            if (::unlinkat(parent.get(), leaf, 0) != 0) throw_sys("unlink", shown);
            exists = false;
        }
        if (!e.hardlink.empty()) {
            link_to(e.hardlink, parent.get(), leaf, shown);
            return;
        }
        mode_t perm = e.st.st_mode & 07777;
        if (S_ISDIR(e.st.st_mode)) {
            if (!exists && ::mkdirat(parent.get(), leaf, 0700) != 0) throw_sys("mkdir", shown);
            // its mode and times once its contents are written
            dirs_.push_back({path, perm, uid, gid, e.st.st_atim, e.st.st_mtim});
            return;
        }
        if (S_ISREG(e.st.st_mode)) {
            sys::UniqueFd f(::openat(parent.get(), leaf,
                                     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
            if (!f) throw_sys("create", shown);
            char buf[65536];
            for (;;) {
                ssize_t n = e.read(buf, sizeof buf);
                if (n < 0) throw_sys("read", e.name);
                if (n == 0) break;
                for (ssize_t done = 0; done < n;) {
                    ssize_t w = ::write(f.get(), buf + done, static_cast<size_t>(n - done));
                    if (w < 0 && errno == EINTR) continue;
                    if (w < 0) throw_sys("write", shown);
                    done += w;
                }
            }
            if (::fchown(f.get(), uid, gid) != 0) throw_sys("chown", shown);
            if (::fchmod(f.get(), perm) != 0) throw_sys("chmod", shown);
            struct timespec ts[2] = {e.st.st_atim, e.st.st_mtim};
            if (::futimens(f.get(), ts) != 0) throw_sys("set times of", shown);
            return;
        }
        if (S_ISLNK(e.st.st_mode)) {
            if (::symlinkat(e.link.c_str(), parent.get(), leaf) != 0) throw_sys("symlink", shown);
        } else if (::mknodat(parent.get(), leaf, e.st.st_mode, e.st.st_rdev) != 0) {
            throw_sys("mknod", shown);
        }
        if (::fchownat(parent.get(), leaf, uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
            throw_sys("chown", shown);
        if (!S_ISLNK(e.st.st_mode) && ::fchmodat(parent.get(), leaf, perm, 0) != 0)
            throw_sys("chmod", shown);
        struct timespec ts[2] = {e.st.st_atim, e.st.st_mtim};
        if (::utimensat(parent.get(), leaf, ts, AT_SYMLINK_NOFOLLOW) != 0)
            throw_sys("set times of", shown);
    }

    void finish() override {
        for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
            std::string shown = root_.show(it->path);
            sys::UniqueFd d(sys::open_in_root(root_.fd.get(), it->path.c_str(),
                                              O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
            if (!d) throw_sys("open directory", shown, -d.release());
            if (::fchown(d.get(), it->uid, it->gid) != 0) throw_sys("chown", shown);
            if (::fchmod(d.get(), it->mode) != 0) throw_sys("chmod", shown);
            struct timespec ts[2] = {it->atime, it->mtime};
            if (::futimens(d.get(), ts) != 0) throw_sys("set times of", shown);
        }
    }

  private:
    // `leaf` of `parent` as one more name of the file at `target` (relative to the
    // directory written into, resolved inside the root: never a file outside it).
    void link_to(const std::string& target, int parent, const char* leaf,
                 const std::string& shown) {
        std::string path = dir_.ends_with("/") ? dir_ + target : fmt::format("{}/{}", dir_, target);
        sys::UniqueFd t(sys::open_in_root(root_.fd.get(), path.c_str(), O_PATH | O_NOFOLLOW));
        if (!t) throw_sys("open", root_.show(path), -t.release());
        struct stat st {};
        if (::fstat(t.get(), &st) != 0) throw_sys("stat", root_.show(path));
        if (S_ISDIR(st.st_mode))
            throw Error(
                error_format("hard link \"{}\" to a directory \"{}\"", shown, root_.show(path)),
                EPERM);
        char p[32];
        // through the fd's magic link: what was resolved in the root is what gets linked
        if (::linkat(AT_FDCWD, sys::fd_path(t.get(), p), parent, leaf, AT_SYMLINK_FOLLOW) != 0)
            throw_sys("link", shown);
    }

    struct Dir {
        std::string path;
        mode_t mode;
        uid_t uid;
        gid_t gid;
        struct timespec atime, mtime;
    };
    const Root& root_;
    std::string dir_;
    Owner owner_;
    std::vector<Dir> dirs_;
};

// ---- a tar stream in (cp - DEST) ----

void read_tar(int fd, Sink& out) {
    sys::ArchiveReader a(archive_read_new());
    archive_read_support_filter_all(a.get());
    archive_read_support_format_tar(a.get());
    archive_read_support_format_gnutar(a.get());
    auto fail = [&](const char* what) {
        throw Error(error_format("read tar stream: {}: {}", what, archive_message(a.get())));
    };
    if (archive_read_open_fd(a.get(), fd, 65536) != ARCHIVE_OK) fail("open");
    archive_entry* ae = nullptr;
    for (;;) {
        int r = archive_read_next_header(a.get(), &ae);
        if (r == ARCHIVE_EOF) break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) fail("header");
        TreeEntry e;
        e.name = image::clean_entry_path(or_empty(archive_entry_pathname(ae)));
        if (e.name.empty()) e.name = ".";
        e.st = *archive_entry_stat(ae);
        if (const char* hl = archive_entry_hardlink(ae)) {
            e.hardlink = image::clean_entry_path(hl);
            if (e.hardlink.empty())
                throw Error(error_format("read tar stream: {}: a hard link to \"{}\"", e.name,
                                         std::string(hl)));
        }
        if (const char* l = archive_entry_symlink(ae)) e.link = l;
        if (S_ISREG(e.st.st_mode))
            e.read = [&a](char* b, size_t n) {
                return static_cast<ssize_t>(archive_read_data(a.get(), b, n));
            };
        out.put(e);
    }
    out.finish();
}

// ---- the two roots ----

Root host_root() {
    Root r;
    r.fd.reset(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!r.fd) throw_sys("open", "/");
    return r;
}

std::string host_absolute(const std::string& p) {
    if (p.starts_with("/")) return p;
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof cwd) == nullptr) throw_sys("getcwd");
    return fmt::format("{}/{}", cwd, p);
}

// The binds (volumes included) of a container's config.json that docker shows as its
// Mounts: source and destination, in mount order.
std::vector<std::pair<std::string, std::string>> user_binds(const EngineContext& ctx,
                                                            const ContainerRecord& rec) {
    std::vector<std::pair<std::string, std::string>> out;
    std::string text;
    try {
        text = container_config_json(ctx, rec);
    } catch (const Error&) {
        return out;  // no bundle (never started): nothing is mounted on it yet either
    }
    for (auto& m : nlohmann::json::parse(text).value("mounts", nlohmann::json::array())) {
        auto opts = m.value("options", std::vector<std::string>{});
        bool bind = m.value("type", "") == "bind" ||
                    std::find(opts.begin(), opts.end(), "bind") != opts.end() ||
                    std::find(opts.begin(), opts.end(), "rbind") != opts.end();
        std::string dst = m.value("destination", "");
        if (!bind || dst.starts_with("/proc") || dst.starts_with("/dev") ||
            dst.starts_with("/sys") || dst == "/sbin/husk-init")
            continue;
        out.emplace_back(m.value("source", ""), dst);
    }
    return out;
}

// A stopped container's binds and volumes on its root filesystem, as they are while it
// runs (docker mounts them for cp too), in a mount namespace of this thread's own.
// As a user (no CAP_SYS_ADMIN) they are not mounted: cp sees the root filesystem alone.
void mount_binds(const EngineContext& ctx, const ContainerRecord& rec, const std::string& rootfs,
                 const std::string& arg, Root& r) {
    auto binds = user_binds(ctx, rec);
    if (binds.empty() || sys::rootless()) return;
    r.mounts.emplace();
    r.fd.reset(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!r.fd) throw_sys("open the root filesystem of container", arg);
    for (auto& [src, dst] : binds) {
        struct stat st {};
        if (::stat(src.c_str(), &st) != 0) continue;  // a bind source removed since
        sys::UniqueFd at(sys::ensure_in_root(r.fd.get(), dst.c_str(), S_ISDIR(st.st_mode), 0755));
        if (!at) throw_sys("make the mount point", r.show(dst), -at.release());
        char p[32];
        if (::mount(src.c_str(), sys::fd_path(at.get(), p), nullptr, MS_BIND | MS_REC, nullptr) !=
            0)
            throw_sys("bind", src);
    }
}

// A running container's root, its init's (mounts included); null when it is not running.
sys::UniqueFd running_root(const ContainerRecord& rec) {
    if (rec.status != ContainerStatus::running || rec.pid <= 0) return {};
    std::string proc = fmt::format("/proc/{}/root", rec.pid);
    return sys::UniqueFd(::open(proc.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
}

// The container's root: `live` (running_root) while it runs, else its root filesystem,
// mounted again if a reboot unmounted it, with its binds and volumes. `here`: this process
// is root in a user namespace with the container's maps (in_container_userns' child) and
// mounts a rootless overlay root itself (Store::open_userns_rootfs).
Root container_root(const EngineContext& ctx, const ContainerRecord& rec, const std::string& arg,
                    sys::UniqueFd live, bool here) {
    Root r;
    r.container = arg;
    if ((r.fd = std::move(live))) return r;
    std::string rootfs = rec.rootfs;
    if (!rec.image_id.empty()) {
        std::optional<image::Store> own;
        image::Store& store = ctx.store != nullptr ? *ctx.store : own.emplace(ctx.data_root);
        // a rootless overlay root, mounted only in the container: our own mount of it
        // (its binds are not mounted for the copy)
        if (store.userns_overlay_rootfs(rec.id) && (r.fd = store.open_userns_rootfs(rec.id, here)))
            return r;
        rootfs = store.remount_rootfs(rec.id);
    }
    mount_binds(ctx, rec, rootfs, arg, r);
    if (!r.fd) r.fd.reset(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!r.fd) throw_sys("open the root filesystem of container", arg);
    return r;
}

// Ids as the other side sees them: a user-namespaced container's files are owned by
// host ids that stand for its own.
struct IdMaps {
    std::optional<image::IdShift> shift;
    std::pair<uid_t, gid_t> to_host(uid_t u, gid_t g) const {
        if (!shift) return {u, g};
        return {shift->host_uid(u), shift->host_gid(g)};
    }
    std::pair<uid_t, gid_t> to_container(uid_t u, gid_t g) const {
        if (!shift) return {u, g};
        return {shift->container_uid(u), shift->container_gid(g)};
    }
};

// The top of SRC, resolved in its root: a symlink itself unless `follow`.
sys::UniqueFd open_source(const Root& root, const std::string& path, bool follow, struct stat& st) {
    int flags = O_PATH | (follow ? 0 : O_NOFOLLOW);
    sys::UniqueFd fd(sys::open_in_root(root.fd.get(), path.c_str(), flags));
    if (!fd) {
        int err = -fd.release();
        if (err == ENOENT && !root.container.empty())
            throw Error(
                error_format("Could not find the file {} in container {}", path, root.container),
                err);
        throw_sys("lstat", root.show(path), err);
    }
    if (::fstat(fd.get(), &st) != 0) throw_sys("stat", root.show(path));
    if ((path.ends_with("/") || path.ends_with("/.")) && !S_ISDIR(st.st_mode))
        throw Error(error_format("\"{}\" is not a directory", root.show(path)), ENOTDIR);
    return fd;
}

// What DEST is (following symlinks inside its root): nullopt when nothing is there.
std::optional<bool> probe_dest(const Root& root, const std::string& path) {
    sys::UniqueFd fd(sys::open_in_root(root.fd.get(), path.c_str(), O_PATH));
    if (!fd) {
        int err = -fd.release();
        if (err == ENOENT) return std::nullopt;
        throw_sys("stat", root.show(path), err);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw_sys("stat", root.show(path));
    return S_ISDIR(st.st_mode);
}

// DEST with its last component's symlinks followed inside its root, as docker resolves
// DEST in the container's scope: a link to a file is written through to its target.
std::string follow_dest_links(const Root& root, std::string path) {
    for (int hops = 0; hops < 40; ++hops) {
        if (path.ends_with("/")) return path;
        char leaf[NAME_MAX + 1];
        sys::UniqueFd parent(
            sys::parent_in_root(root.fd.get(), path.c_str(), leaf, sizeof leaf, false, 0755));
        if (!parent) return path;  // reported where it is opened
        char target[PATH_MAX];
        ssize_t n = ::readlinkat(parent.get(), leaf, target, sizeof target - 1);
        if (n <= 0) return path;
        std::string t(target, static_cast<size_t>(n));
        path = t.starts_with("/") ? t : fmt::format("{}/{}", dir_name(path), t);
    }
    throw Error(error_format("resolve \"{}\": too many levels of symbolic links", root.show(path)),
                ELOOP);
}

// The directory entries are written into must exist (docker makes no parents).
void require_dir(const Root& root, const std::string& dir) {
    if (probe_dest(root, dir) != std::optional<bool>(true))
        throw Error(error_format("destination directory \"{}\" does not exist", root.show(dir)),
                    ENOENT);
}

// copy() with the container's root opened: `ids` turn the ids this process sees into
// those of the other side.
void copy_with(Root croot, const CopyEndpoint& src, const CopyEndpoint& dst, const IdMaps& ids,
               const CopyOptions& opts, int in_fd, int out_fd) {
    const CopyEndpoint& in_container = src.container.empty() ? dst : src;
    std::string cpath = in_container.path.empty() ? "/" : in_container.path;
    if (!cpath.starts_with("/")) cpath = "/" + cpath;  // relative to the container's "/"

    if (!src.container.empty()) {  // out of the container
        struct stat st {};
        sys::UniqueFd fd = open_source(croot, cpath, opts.follow_link, st);
        // -a: the owners as the container sees them; else the caller's
        Owner owner = [&](uid_t u, gid_t g) {
            if (opts.archive || dst.stream()) return ids.to_container(u, g);
            return std::pair<uid_t, gid_t>{::geteuid(), ::getegid()};
        };
        bool dot = cpath.ends_with("/.");
        if (dst.stream()) {
            TarSink tar(out_fd, owner);
            Links links;
            walk(fd.get(), st, dot && S_ISDIR(st.st_mode) ? "." : base_name(cpath),
                 croot.show(cpath), tar, links);
            tar.finish();
            return;
        }
        Root hroot = host_root();
        std::string hpath = host_absolute(dst.path);
        if (dst.path.ends_with("/") && !hpath.ends_with("/")) hpath += "/";
        hpath = follow_dest_links(hroot, hpath);  // as docker cp: a link as DEST is followed
        CopyTarget t = copy_target(cpath, S_ISDIR(st.st_mode), hpath, probe_dest(hroot, hpath));
        require_dir(hroot, t.dir);
        DiskSink sink(hroot, t.dir, owner);
        Links links;
        walk(fd.get(), st, t.name, croot.show(cpath), sink, links);
        sink.finish();
        return;
    }

    // into the container: owned by its root, or with -a by the source's owners
    Owner owner = [&](uid_t u, gid_t g) {
        return opts.archive ? ids.to_host(u, g) : ids.to_host(0, 0);
    };
    if (src.stream()) {
        if (probe_dest(croot, cpath) != std::optional<bool>(true))
            throw Error(error_format("destination \"{}\" must be a directory", croot.show(cpath)),
                        ENOTDIR);
        DiskSink sink(croot, cpath, owner);
        read_tar(in_fd, sink);
        return;
    }
    Root hroot = host_root();
    std::string hpath = host_absolute(src.path);
    struct stat st {};
    sys::UniqueFd fd = open_source(hroot, hpath, opts.follow_link, st);
    cpath = follow_dest_links(croot, cpath);
    CopyTarget t = copy_target(hpath, S_ISDIR(st.st_mode), cpath, probe_dest(croot, cpath));
    require_dir(croot, t.dir);
    DiskSink sink(croot, t.dir, owner);
    Links links;
    walk(fd.get(), st, t.name, hpath, sink, links);
    sink.finish();
}

}  // namespace

void copy(const EngineContext& ctx, const std::string& src_arg, const std::string& dst_arg,
          const CopyOptions& opts, int in_fd, int out_fd) {
    CopyEndpoint src = parse_copy_endpoint(src_arg), dst = parse_copy_endpoint(dst_arg);
    if (src.container.empty() == dst.container.empty()) {
        if (src.container.empty())
            throw Error("must specify at least one container source", ExitCode{1});
        throw Error("copying between containers is not supported", ExitCode{1});
    }
    const std::string& name = src.container.empty() ? dst.container : src.container;
    ContainerRecord rec = lookup(ctx, name);
    if (::geteuid() != 0 && !rec.uid_maps.empty() && !rec.image_id.empty()) {
        // A running container whose root is fuse-overlayfs serves only its own user
        // namespace: the copy is done by a process that joined it (as the container's root).
        sys::UniqueFd live = running_root(rec);
        std::optional<image::Store> own;
        image::Store& store = ctx.store != nullptr ? *ctx.store : own.emplace(ctx.data_root);
        if (live && store.fuse_overlay_rootfs(rec.id)) {
            auto done = in_container_userns(
                rec.uid_maps, rec.gid_maps,
                [&] {
                    copy_with(container_root(ctx, rec, name, std::move(live), true), src, dst,
                              IdMaps{}, opts, in_fd, out_fd);
                    return std::string();
                },
                rec.pid);
            if (done) return;
        }
    }
    if (::geteuid() != 0 && rec.uid_maps.size() > 1) {
        // A user's container with the user's range: its files of the range's ids (a 0700
        // directory of its uid 1000) are the user's to read and write only as the root of a
        // user namespace with the container's maps, where stat gives the container's ids
        // and chown takes them. The whole copy is done there, every file seen one way (a
        // stream read or written once cannot be done again after a refusal half-way). A
        // running container's /proc/PID/root is opened here: the user owns its namespace,
        // the child's namespace does not.
        sys::UniqueFd live = running_root(rec);
        auto done = in_container_userns(rec.uid_maps, rec.gid_maps, [&] {
            copy_with(container_root(ctx, rec, name, std::move(live), true), src, dst, IdMaps{},
                      opts, in_fd, out_fd);
            return std::string();
        });
        if (done) return;
        // newuidmap refused the maps (the range moved): as the user, refused what the
        // range's ids keep from the user
    }
    copy_with(container_root(ctx, rec, name, running_root(rec), false), src, dst,
              IdMaps{rec.id_shift()}, opts, in_fd, out_fd);
}

}  // namespace husk::engine
