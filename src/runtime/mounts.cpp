// Mounts: the parent plans them (options parsed, idmapped binds made), the init makes
// them. Every target is resolved inside the root (sys/safe_path) and every mount is
// attached to an fd with the new mount API (sys/mount_api), so no path can be swapped
// for a symlink between the check and the mount.
#include "runtime/mounts.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "runtime/cgroup_mounts.h"
#include "runtime/devices.h"
#include "runtime/init.h"
#include "runtime/namespaces.h"
#include "runtime/procfs_guard.h"
#include "runtime/sync.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/fuse.h"
#include "sys/log.h"
#include "sys/mount_api.h"
#include "sys/safe_path.h"
#include "sys/unix_socket.h"
#include "sys/userns.h"

namespace husk::runtime {
namespace {

PlannedMount symlink(const char* target, const char* link) {
    PlannedMount m;
    m.kind = PlannedMount::Kind::symlink;
    m.source = target;
    m.target = link;
    return m;
}

// An idmapped bind (options idmap/ridmap, or mappings on the mount): the mount's own
// mappings, else the container's user namespace's, as runc: a joined one is itself the
// idmap. Returns the detached mount.
sys::UniqueFd idmapped_bind(const oci::Spec& spec, size_t i, const PlannedMount& pm,
                            int user_join_fd) {
    const auto& m = spec.mounts[i];
    if (m.uid_mappings.empty() && m.gid_mappings.empty() && user_join_fd >= 0)
        return open_idmapped_tree(pm.source, pm.opts, user_join_fd);
    static const std::vector<oci::IdMapping> kNone;
    const auto& uids = !m.uid_mappings.empty() ? m.uid_mappings
                       : spec.linux_           ? spec.linux_->uid_mappings
                                               : kNone;
    const auto& gids = !m.gid_mappings.empty() ? m.gid_mappings
                       : spec.linux_           ? spec.linux_->gid_mappings
                                               : kNone;
    if (uids.empty() || gids.empty())
        throw Error(
            "an idmapped mount needs uidMappings and gidMappings, on the mount or for the "
            "container's user namespace");
    std::string u = format_id_map(uids, fmt::format("mounts[{}].uidMappings", i).c_str());
    std::string g = format_id_map(gids, fmt::format("mounts[{}].gidMappings", i).c_str());
    sys::UniqueFd ns = sys::userns_with_maps(u, g);
    return open_idmapped_tree(pm.source, pm.opts, ns.get());
}

// sysfs can only be mounted by the user namespace that owns the network namespace: a
// container in a user namespace without a network namespace of its own gets the host's
// /sys bound read-only instead, as runc does.
PlannedMount sysfs_as_bind(PlannedMount pm) {
    pm.kind = PlannedMount::Kind::bind;
    pm.source = "/sys";
    pm.fstype = "bind";
    pm.opts = parse_mount_options("bind", {"rbind", "rro", "nosuid", "nodev", "noexec"});
    return pm;
}

// A filesystem mounted on "/" becomes the root (Plan::root_mount). overlayfs' lowerdir
// goes to the kernel one layer at a time ("lowerdir+", Linux >= 6.8) when the list is
// longer than the 255 bytes fsconfig takes in one value.
void plan_root_mount(PlannedMount pm, unsigned long all_ns, Plan& p) {
    if (pm.fstype.empty()) throw Error("mount type is required");
    if ((all_ns & CLONE_NEWNS) == 0)
        throw Error("a mount on \"/\" needs a mount namespace of the container's own");
    if (p.has_root_mount) throw Error("a second mount on \"/\"");
    constexpr size_t kFsconfigValueMax = 255;
    std::vector<std::pair<std::string, std::string>> params;
    for (auto& [key, value] : pm.opts.params) {
        if (pm.fstype != "overlay" || key != "lowerdir" || value.size() <= kFsconfigValueMax) {
            params.emplace_back(key, value);
            continue;
        }
        for (size_t b = 0; b <= value.size();) {
            size_t e = value.find(':', b);
            if (e == std::string::npos) e = value.size();
            params.emplace_back("lowerdir+", value.substr(b, e - b));
            b = e + 1;
        }
    }
    pm.opts.params = std::move(params);
    pm.target = "/";
    if (pm.fstype == "fuse-overlayfs") {  // served by a process the parent starts
        if (sys::find_on_path("fuse-overlayfs").empty())
            throw Error("fuse-overlayfs: not found on $PATH (Debian's fuse-overlayfs package)",
                        ENOENT);
        for (const auto& [key, value] : pm.opts.params)
            p.root_fuse_options.push_back(value.empty() ? key : fmt::format("{}={}", key, value));
        p.root_fuse = true;
    }
    p.root_mount = std::move(pm);
    p.has_root_mount = true;
}

}  // namespace

std::string absolute_in(const std::string& base, const std::string& path) {
    if (!path.empty() && path[0] == '/') return path;
    return base + "/" + path;
}

void plan_root(const oci::Root& root, const std::string& bundle, Plan& p) {
    std::string rootfs = absolute_in(bundle, root.path);
    char real[PATH_MAX];
    if (!::realpath(rootfs.c_str(), real)) throw_sys("resolve root.path", rootfs);
    p.rootfs = real;
    struct stat st {};
    if (::stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
        throw Error(fmt::format("root.path \"{}\": not a directory", rootfs));
    p.root_readonly = root.readonly;
}

void check_without_mount_ns(const oci::Spec& spec, const std::string& rootfs) {
    if (spec.linux_ && (!spec.linux_->masked_paths.empty() || !spec.linux_->readonly_paths.empty()))
        throw Error(fmt::format(
            "linux.{}: masked and read-only paths need a mount namespace (a linux.namespaces "
            "entry of type \"mount\")",
            spec.linux_->masked_paths.empty() ? "readonlyPaths" : "maskedPaths"));
    if (!spec.mounts.empty())
        log::warn(
            "linux.namespaces: no mount namespace: mounts are made in the runtime's own mount "
            "namespace, under {}, and stay there after the container ends",
            rootfs);
}

bool plan_mounts(const oci::Spec& spec, const std::string& bundle,
                 const std::vector<std::string>& cgroup_dirs,
                 const std::vector<cgroup::CgroupMount>& host_cgroups, bool own_netns,
                 unsigned long all_ns, Plan& p) {
    bool userns = p.in_user_ns();
    bool cgroupns = (all_ns & CLONE_NEWCGROUP) != 0;
    bool dev_bound = false, dev_pts = false;
    for (size_t i = 0; i < spec.mounts.size(); ++i) {
        const auto& m = spec.mounts[i];
        auto ctx = fmt::format("mounts[{}] ({})", i, m.destination);
        PlannedMount pm;
        pm.target = m.destination;
        pm.fstype = m.type;
        pm.source = m.source;
        with_context(ctx, [&] { pm.opts = parse_mount_options(m.type, m.options); });
        if (pm.opts.bind) {
            pm.kind = PlannedMount::Kind::bind;
            pm.source = absolute_in(bundle, m.source);
            struct stat st {};
            if (::stat(pm.source.c_str(), &st) != 0)
                with_context(ctx, [&] { throw_sys("stat bind source", pm.source); });
            pm.dir_target = S_ISDIR(st.st_mode);
            if (m.destination == "/dev") dev_bound = true;
            if (pm.opts.idmap || !m.uid_mappings.empty() || !m.gid_mappings.empty())
                pm.premade_fd = p.own(
                    with_context(ctx, [&] { return idmapped_bind(spec, i, pm, p.user_join_fd); }));
            p.mounts.push_back(std::move(pm));
        } else if (pm.opts.idmap || !m.uid_mappings.empty() || !m.gid_mappings.empty()) {
            throw Error(fmt::format("{}: idmapped mounts need a bind mount", ctx));
        } else if (m.type == "sysfs" && userns && !own_netns) {
            p.mounts.push_back(sysfs_as_bind(std::move(pm)));
        } else if (m.type == "cgroup" || m.type == "cgroup2") {
            append_cgroup_mounts(pm, host_cgroups, cgroupns ? nullptr : &cgroup_dirs, p.mounts);
        } else if (m.destination == "/") {
            with_context(ctx, [&] { plan_root_mount(std::move(pm), all_ns, p); });
        } else {
            if (m.type.empty()) throw Error(fmt::format("{}: mount type is required", ctx));
            if (m.type == "devpts") dev_pts = true;
            p.mounts.push_back(std::move(pm));
        }
    }
    if (!dev_bound) {
        p.mounts.push_back(symlink("/proc/self/fd", "/dev/fd"));
        p.mounts.push_back(symlink("/proc/self/fd/0", "/dev/stdin"));
        p.mounts.push_back(symlink("/proc/self/fd/1", "/dev/stdout"));
        p.mounts.push_back(symlink("/proc/self/fd/2", "/dev/stderr"));
        if (::access("/proc/kcore", F_OK) == 0)
            p.mounts.push_back(symlink("/proc/kcore", "/dev/core"));
        if (dev_pts) p.mounts.push_back(symlink("pts/ptmx", "/dev/ptmx"));
    }
    if (spec.linux_) {
        const auto& lx = *spec.linux_;
        if (!lx.rootfs_propagation.empty())
            p.root_propagation = parse_propagation(lx.rootfs_propagation);
        p.masked_paths = lx.masked_paths;
        p.readonly_paths = lx.readonly_paths;
    }
    return dev_bound;
}

sys::UniqueFd open_idmapped_tree(const std::string& source, const MountOptions& o, int userns_fd) {
    sys::UniqueFd tree(sys::clone_mount(AT_FDCWD, source.c_str(), o.recursive ? AT_RECURSIVE : 0));
    if (!tree) throw_sys("bind mount source", source, -tree.get());
    if (int r = sys::idmap_mount(tree.get(), userns_fd, o.ridmap); r < 0)
        throw_sys("idmap mount of", source, -r);
    if (int r = sys::set_mount_attrs(tree.get(), false, o.attr_set, o.attr_clr); r < 0)
        throw_sys("set mount options on", source, -r);
    if (int r = sys::set_mount_attrs(tree.get(), true, o.rattr_set, o.rattr_clr); r < 0)
        throw_sys("set mount options on", source, -r);
    return tree;
}

// --- child side: runs between clone and execve ---
namespace {

using sys::UniqueFd;

// A new filesystem instance (proc, tmpfs, sysfs, devpts, mqueue, cgroup...) as a detached mount.
int new_filesystem(const Plan& p, const PlannedMount& m) noexcept {
    int f = sys::open_filesystem(m.fstype.c_str());
    if (f < 0) init_fail(p, "fsopen", m.fstype.c_str(), -f);
    UniqueFd fs(f);
    if (!m.source.empty()) {
        if (int r = sys::set_filesystem_option(f, "source", m.source.c_str()); r < 0)
            init_fail(p, "mount option source for", m.target.c_str(), -r);
    }
    for (const auto& [key, value] : m.opts.params) {
        if (int r = sys::set_filesystem_option(f, key.c_str(), value.c_str()); r < 0)
            init_fail(p, "mount option", key.c_str(), -r);
    }
    int mnt = sys::create_filesystem_mount(f, m.opts.attr_set & sys::kMountAttrMask);
    if (mnt < 0) init_fail(p, "mount", m.target.c_str(), -mnt);
    return mnt;
}

// The root as a FUSE mount of ours (Plan::root_fuse): the connection goes to the parent,
// which starts its server; what we do in the root meanwhile waits for it.
int fuse_root(const Plan& p) noexcept {
    sys::FuseMountFds f;
    const char* step = nullptr;
    if (int r = sys::fuse_mount_detached("fuse-overlayfs", true, f, step); r < 0)
        init_fail(p, step, "/dev/fuse", -r);
    sync_send(p.sync_fd, SyncType::fuse_fd);
    char one = 1;
    if (int r = sys::send_fd(p.sync_fd, f.dev, &one, 1); r < 0)
        init_fail(p, "send the /dev/fuse fd", "", -r);
    ::close(f.dev);
    if (p.in_user_ns()) {  // the namespace the server serves from: ours, by fd (no ptrace
                           // check of a non-dumpable init, no pid)
        int ns = ::open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
        if (ns < 0) init_fail(p, "open", "/proc/self/ns/user", errno);
        if (int r = sys::send_fd(p.sync_fd, ns, &one, 1); r < 0)
            init_fail(p, "send the user namespace fd", "", -r);
        ::close(ns);
    }
    return f.mnt;
}

int clone_tree(const Plan& p, const PlannedMount& m) noexcept {
    int tree = sys::clone_mount(AT_FDCWD, m.source.c_str(), m.opts.recursive ? AT_RECURSIVE : 0);
    if (tree < 0) init_fail(p, "bind mount source", m.source.c_str(), -tree);
    if (int r = sys::set_mount_attrs(tree, false, m.opts.attr_set, m.opts.attr_clr); r < 0)
        init_fail(p, "set mount options on", m.target.c_str(), -r);
    if (int r = sys::set_mount_attrs(tree, true, m.opts.rattr_set, m.opts.rattr_clr); r < 0)
        init_fail(p, "set recursive mount options on", m.target.c_str(), -r);
    return tree;
}

void make_symlink(const Plan& p, int rootfd, const PlannedMount& m) noexcept {
    char name[NAME_MAX + 1];
    int parent = sys::parent_in_root(rootfd, m.target.c_str(), name, sizeof name, true, 0755);
    if (parent < 0) init_fail(p, "symlink", m.target.c_str(), -parent);
    UniqueFd guard(parent);
    if (::symlinkat(m.source.c_str(), parent, name) != 0 && errno != EEXIST)
        init_fail(p, "symlink", m.target.c_str(), errno);
}

void mount_one(const Plan& p, int rootfd, const PlannedMount& m) noexcept {
    if (m.kind == PlannedMount::Kind::symlink) {
        make_symlink(p, rootfd, m);
        return;
    }
    if (m.kind == PlannedMount::Kind::seal_readonly) {
        UniqueFd t(sys::open_in_root(rootfd, m.target.c_str(), O_PATH | O_DIRECTORY));
        if (!t) init_fail(p, "open", m.target.c_str(), ENOENT);
        if (int r = sys::set_mount_attrs(t.get(), false, MOUNT_ATTR_RDONLY, 0); r < 0)
            init_fail(p, "make read-only", m.target.c_str(), -r);
        return;
    }
    UniqueFd mnt(m.premade_fd >= 0                    ? m.premade_fd
                 : m.kind == PlannedMount::Kind::bind ? clone_tree(p, m)
                                                      : new_filesystem(p, m));
    int t = sys::ensure_in_root(rootfd, m.target.c_str(), m.dir_target, 0755);
    if (t < 0) init_fail(p, "create mount target", m.target.c_str(), -t);
    UniqueFd target(t);
    if (int r = check_proc_target(m, rootfd, target.get(), mnt.get()); r < 0)
        init_fail(p, "refuse a mount over procfs that is not procfs", m.target.c_str(), -r);
    if (int r = sys::attach_mount(mnt.get(), target.get()); r < 0)
        init_fail(p, "mount on", m.target.c_str(), -r);
    if (m.opts.propagation != 0) {
        if (int r = sys::set_mount_attrs(mnt.get(), m.opts.propagation_recursive, 0, 0,
                                         m.opts.propagation);
            r < 0)
            init_fail(p, "set propagation of", m.target.c_str(), -r);
    }
}

// Make the mount that holds the rootfs private, that mount only: pivot_root refuses a
// shared parent of the new root, and the rootfs bound onto itself must not propagate to
// the host. The rootfs is a clean absolute path (realpath); going up from it, EINVAL means
// "not a mount point".
void make_rootfs_parent_private(const Plan& p) noexcept {
    char path[PATH_MAX];
    if (p.rootfs.size() >= sizeof path) init_fail(p, "rootfs path", p.rootfs.c_str(), ENAMETOOLONG);
    std::memcpy(path, p.rootfs.c_str(), p.rootfs.size() + 1);
    for (;;) {
        if (::mount(nullptr, path, nullptr, MS_PRIVATE, nullptr) == 0) return;
        if (errno != EINVAL || std::strcmp(path, "/") == 0)
            init_fail(p, "make the mount holding the rootfs private", path, errno);
        char* slash = std::strrchr(path, '/');
        if (slash == path)
            path[1] = 0;
        else
            *slash = 0;
    }
}

void do_pivot(const Plan& p) noexcept {
    if (p.no_pivot) {
        // The rootfs moves onto "/": were "/" shared (rootfsPropagation shared), the move
        // would propagate it over the host's root.
        if (::mount(nullptr, "/", nullptr, MS_PRIVATE, nullptr) != 0)
            init_fail(p, "make / private", "/", errno);
        if (::chdir(p.rootfs.c_str()) != 0) init_fail(p, "chdir", p.rootfs.c_str(), errno);
        if (::mount(p.rootfs.c_str(), "/", nullptr, MS_MOVE, nullptr) != 0)
            init_fail(p, "move root to /", p.rootfs.c_str(), errno);
        if (::chroot(".") != 0) init_fail(p, "chroot", p.rootfs.c_str(), errno);
    } else {
        UniqueFd oldroot(::open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
        UniqueFd newroot(::open(p.rootfs.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
        if (!oldroot || !newroot) init_fail(p, "open root", p.rootfs.c_str(), errno);
        if (::fchdir(newroot.get()) != 0) init_fail(p, "chdir", p.rootfs.c_str(), errno);
        if (::syscall(SYS_pivot_root, ".", ".") != 0)
            init_fail(p, "pivot_root", p.rootfs.c_str(), errno);
        // The old root is now stacked under "."; detach it without propagating to the host.
        if (::fchdir(oldroot.get()) != 0) init_fail(p, "chdir", "old root", errno);
        if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0)
            init_fail(p, "make old root slave", "/", errno);
        if (::umount2(".", MNT_DETACH) != 0) init_fail(p, "unmount old root", "/", errno);
    }
    if (::chdir("/") != 0) init_fail(p, "chdir", "/", errno);
}

void mask_paths(const Plan& p, int rootfd) noexcept {
    if (p.masked_paths.empty()) return;
    // /dev/null must be the real null device before it is bind-mounted over anything
    // (a container could have planted a symlink or another node there).
    UniqueFd null(sys::open_in_root(rootfd, "/dev/null", O_PATH | O_NOFOLLOW));
    struct stat st {};
    if (!null || ::fstat(null.get(), &st) != 0) init_fail(p, "open", "/dev/null", errno);
    if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
        init_fail(p, "verify /dev/null is the null device (char 1:3)", "/dev/null", EPERM);
    for (const auto& path : p.masked_paths) {
        int fd = sys::open_in_root(rootfd, path.c_str(), O_PATH | O_NOFOLLOW);
        if (fd == -ENOENT) continue;
        if (fd < 0) init_fail(p, "open masked path", path.c_str(), -fd);
        UniqueFd target(fd);
        struct stat ts {};
        if (::fstat(fd, &ts) != 0) init_fail(p, "stat masked path", path.c_str(), errno);
        int mnt;
        if (S_ISDIR(ts.st_mode)) {
            UniqueFd fs(sys::open_filesystem("tmpfs"));
            if (!fs) init_fail(p, "mount tmpfs to mask", path.c_str(), -fs.get());
            mnt = sys::create_filesystem_mount(fs.get(), MOUNT_ATTR_RDONLY);
            if (mnt < 0) init_fail(p, "mount tmpfs to mask", path.c_str(), -mnt);
        } else {
            mnt = sys::clone_mount(null.get(), "");
        }
        if (mnt < 0) init_fail(p, "mask", path.c_str(), -mnt);
        UniqueFd m(mnt);
        if (int r = sys::attach_mount(mnt, fd); r < 0) init_fail(p, "mask", path.c_str(), -r);
    }
}

void readonly_paths(const Plan& p, int rootfd) noexcept {
    for (const auto& path : p.readonly_paths) {
        int fd = sys::open_in_root(rootfd, path.c_str(), O_PATH | O_NOFOLLOW);
        if (fd == -ENOENT) continue;
        if (fd < 0) init_fail(p, "open read-only path", path.c_str(), -fd);
        UniqueFd target(fd);
        int tr = sys::clone_mount(fd, "", AT_RECURSIVE);
        if (tr < 0) init_fail(p, "bind read-only path", path.c_str(), -tr);
        UniqueFd tree(tr);
        if (int r = sys::set_mount_attrs(tree.get(), true, MOUNT_ATTR_RDONLY, 0); r < 0)
            init_fail(p, "make read-only", path.c_str(), -r);
        if (int r = sys::attach_mount(tree.get(), fd); r < 0)
            init_fail(p, "mount read-only", path.c_str(), -r);
    }
}

}  // namespace

void init_rootfs(const Plan& p) noexcept {
    if (p.new_mount_ns) {
        // "/" gets the asked propagation from the start (rslave when none is asked), as
        // runc: with rshared, a volume bound from a shared host mount stays in the host's
        // peer group, and mounts reach the host from the container and back (Kubernetes'
        // Bidirectional). What the runtime itself mounts cannot: it all lands on the
        // rootfs, bound onto itself from a private parent.
        unsigned long propagation =
            p.root_propagation != 0 ? p.root_propagation : MS_SLAVE | MS_REC;
        if (::mount(nullptr, "/", nullptr, propagation, nullptr) != 0)
            init_fail(p, "set the propagation of /", "/", errno);
        make_rootfs_parent_private(p);
        if (p.has_root_mount) {  // the root is a filesystem of its own (an overlay)
            UniqueFd mnt(p.root_fuse ? fuse_root(p) : new_filesystem(p, p.root_mount));
            if (int r = sys::attach_mount_at(mnt.get(), p.rootfs.c_str()); r < 0)
                init_fail(p, "mount the root on", p.rootfs.c_str(), -r);
        } else if (::mount(p.rootfs.c_str(), p.rootfs.c_str(), nullptr, MS_BIND | MS_REC,
                           nullptr) != 0) {
            // The rootfs must be a mount point for pivot_root: bind it onto itself.
            init_fail(p, "bind rootfs", p.rootfs.c_str(), errno);
        }
    }
    // Without a mount namespace (runc runs such configs) the mounts are made in the
    // runtime's own mount namespace, under the rootfs; build_plan warned about it.
    UniqueFd root(::open(p.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) init_fail(p, "open rootfs", p.rootfs.c_str(), errno);
    for (const auto& m : p.mounts) mount_one(p, root.get(), m);
    make_devices(p, root.get());
    // The runtime's createRuntime hooks, then ours (createContainer), both before pivot_root.
    if (p.ask_runtime_hooks) {
        sync_send(p.sync_fd, SyncType::hooks_ask);
        SyncMsg m;
        if (sync_recv(p.sync_fd, m) <= 0 || m.type != SyncType::hooks_done) ::_exit(1);
    }
    if (!p.create_container_hooks.empty())
        init_hooks(p, p.create_container_hooks, "createContainer");
    // As runc: a missing working directory is created (inside the root).
    if (p.cwd != "/") {
        int fd = sys::mkdir_all_in_root(root.get(), p.cwd.c_str(), 0755);
        if (fd >= 0) ::close(fd);
    }
    if (p.new_mount_ns) {
        do_pivot(p);
    } else if (::chroot(p.rootfs.c_str()) != 0 || ::chdir("/") != 0) {
        init_fail(p, "chroot", p.rootfs.c_str(), errno);
    }
}

void init_after_pivot(const Plan& p) noexcept {
    UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) init_fail(p, "open", "/", errno);
    mask_paths(p, root.get());
    readonly_paths(p, root.get());
    if (p.root_readonly) {
        if (int r = sys::set_mount_attrs(root.get(), false, MOUNT_ATTR_RDONLY, 0); r < 0)
            init_fail(p, "make root read-only", "/", -r);
    }
    if (p.root_propagation != 0 && ::mount(nullptr, "/", nullptr, p.root_propagation, nullptr) != 0)
        init_fail(p, "set rootfs propagation", "/", errno);
}

// --- end child side ---

}  // namespace husk::runtime
