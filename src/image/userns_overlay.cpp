#include "image/userns_overlay.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/fuse.h"
#include "sys/mount_api.h"
#include "sys/scope_guard.h"
#include "sys/spawn.h"
#include "sys/syscalls.h"
#include "sys/unix_socket.h"

namespace husk::image {
namespace {

using sys::UniqueFd;

// A failure of the child, written to the parent's pipe.
struct ChildError {
    int err = 0;
    std::array<char, 96> step{};
};

// Everything the child reads, built before the clone: it only makes system calls.
struct MountArgs {
    bool fuse = false;                                        // a FUSE mount, else overlayfs
    std::vector<std::pair<std::string, std::string>> params;  // fsconfig, in order
    int sock = -1, errpipe = -1, go = -1;
    int parent_go = -1;  // the parent's end of `go`: closed first, so a dead parent is EOF
};

[[noreturn]] void child_fail(const MountArgs& a, const char* step, int err) noexcept {
    ChildError e;
    e.err = err;
    std::strncpy(e.step.data(), step, e.step.size() - 1);
    (void)!::write(a.errpipe, &e, sizeof e);
    ::_exit(1);
}

// The overlay `params` mounted detached by this process (root in its user namespace, which
// owns its mount namespace): the mount's fd, or -errno with `step` naming what failed.
// No allocation, no throw: the mount helper's child calls it.
int mount_overlay_params(const std::vector<std::pair<std::string, std::string>>& params,
                         const char*& step) noexcept {
    step = "fsopen overlay";
    int fs = sys::open_filesystem("overlay");
    if (fs < 0) return fs;
    int r = 0;
    for (const auto& [key, value] : params) {
        step = key.c_str();
        r = sys::set_filesystem_option(fs, key.c_str(), value.c_str());
        if (r < 0) break;
    }
    if (r >= 0) {
        step = "mount overlay";
        r = sys::create_filesystem_mount(fs, 0);
    }
    ::close(fs);
    return r;
}

// --- child side: runs between clone and _exit (no allocation, no throw) ---
[[noreturn]] void child_mount(const MountArgs& a) noexcept {
    ::close(a.parent_go);
    char c = 0;
    if (::read(a.go, &c, 1) != 1) ::_exit(1);  // the parent wrote our maps (or gave up)
    const char* step = nullptr;
    if (a.fuse) {  // the mount, then the connection for fuse-overlayfs
        sys::FuseMountFds f;
        // no allow_other: the mount is used from outside its user namespace, by the user
        if (int r = sys::fuse_mount_detached("fuse-overlayfs", false, f, step); r < 0)
            child_fail(a, step, -r);
        if (int r = sys::send_fd(a.sock, f.mnt, "m", 1); r < 0) child_fail(a, "send the mount", -r);
        if (int r = sys::send_fd(a.sock, f.dev, "d", 1); r < 0) child_fail(a, "send /dev/fuse", -r);
        ::_exit(0);
    }
    int mnt = mount_overlay_params(a.params, step);
    if (mnt < 0) child_fail(a, step, -mnt);
    if (int r = sys::send_fd(a.sock, mnt, "m", 1); r < 0) child_fail(a, "send the mount", -r);
    ::_exit(0);
}
// --- end child side ---

std::vector<std::pair<std::string, std::string>> overlay_params(const OverlayDirs& d,
                                                                UsernsOverlay how) {
    std::vector<std::pair<std::string, std::string>> p = {{"userxattr", ""}};
    if (how == UsernsOverlay::lowerdir_add) {
        for (const auto& l : d.lowers) p.emplace_back("lowerdir+", l);
    } else {
        p.emplace_back("lowerdir", fmt::format("{}", fmt::join(d.lowers, ":")));
    }
    if (!d.upper.empty()) {
        p.emplace_back("upperdir", d.upper);
        p.emplace_back("workdir", d.work);
    }
    return p;
}

// The user namespace of `pid` (kept open: it outlives a child that exits).
UniqueFd open_userns_of(pid_t pid) {
    std::string path = fmt::format("/proc/{}/ns/user", pid);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_sys("open", path);
    return fd;
}

}  // namespace

std::vector<std::string> fuse_overlay_options(const OverlayDirs& d) {
    std::vector<std::string> o = {fmt::format("lowerdir={}", fmt::join(d.lowers, ":"))};
    if (!d.upper.empty()) {
        o.push_back("upperdir=" + d.upper);
        o.push_back("workdir=" + d.work);
    }
    return o;
}

UniqueFd userns_overlay_mount(const OverlayDirs& dirs, UsernsOverlay how) {
    if (how == UsernsOverlay::refused) throw Error("overlayfs in a user namespace: refused");
    std::array<int, 2> sv{}, ep{}, gp{};
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv.data()) != 0)
        throw_sys("socketpair");
    UniqueFd sock(sv[0]), child_sock(sv[1]);
    if (::pipe2(ep.data(), O_CLOEXEC) != 0) throw_sys("pipe2");
    UniqueFd err_r(ep[0]), err_w(ep[1]);
    if (::pipe2(gp.data(), O_CLOEXEC) != 0) throw_sys("pipe2");
    UniqueFd go_r(gp[0]), go_w(gp[1]);
    MountArgs a;
    a.fuse = how == UsernsOverlay::fuse;
    if (!a.fuse) a.params = overlay_params(dirs, how);
    a.sock = child_sock.get();
    a.errpipe = err_w.get();
    a.go = go_r.get();
    a.parent_go = go_w.get();

    sys::CloneArgs args;
    args.flags = CLONE_NEWUSER | CLONE_NEWNS;
    args.exit_signal = SIGCHLD;
    pid_t pid = sys::clone3(args);
    if (pid < 0) throw_sys("clone3 (a user namespace to mount overlayfs in)");
    if (pid == 0) child_mount(a);
    sys::ChildGuard child(pid);
    child_sock.reset();
    err_w.reset();
    go_r.reset();
    UniqueFd userns;  // fuse-overlayfs serves the mount from the namespace that made it
    if (a.fuse) userns = open_userns_of(pid);
    // An ordinary user may map itself alone into its child's namespace (setgroups denied).
    std::string base = fmt::format("/proc/{}/", pid);
    sys::write_file(base + "uid_map", fmt::format("0 {} 1\n", ::geteuid()));
    sys::write_file(base + "setgroups", "deny");
    sys::write_file(base + "gid_map", fmt::format("0 {} 1\n", ::getegid()));
    if (::write(go_w.get(), "g", 1) != 1) throw_sys("write", "the mount helper's pipe");
    go_w.reset();
    int status = child.wait("the mount helper");
    ChildError e;
    if (::read(err_r.get(), &e, sizeof e) == static_cast<ssize_t>(sizeof e)) {
        e.step.back() = 0;
        throw_sys(fmt::format("overlayfs in a user namespace: {}", e.step.data()), dirs.upper,
                  e.err);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw Error("overlayfs in a user namespace: the mount helper failed");
    UniqueFd mnt(sys::recv_fd(sock.get()));
    if (a.fuse) {
        UniqueFd dev(sys::recv_fd(sock.get()));
        sys::start_fuse_overlayfs(fuse_overlay_options(dirs), dev.get(), userns.get());
    }
    return mnt;
}

UniqueFd userns_overlay_mount_here(const OverlayDirs& dirs, UsernsOverlay how) {
    if (how == UsernsOverlay::refused) throw Error("overlayfs in a user namespace: refused");
    if (::unshare(CLONE_NEWNS) != 0)
        throw_sys("unshare(CLONE_NEWNS) (to mount overlayfs in this user namespace)");
    const char* step = nullptr;
    if (how == UsernsOverlay::fuse) {
        sys::FuseMountFds f;
        if (int r = sys::fuse_mount_detached("fuse-overlayfs", true, f, step); r < 0)
            throw_sys(fmt::format("fuse-overlayfs in a user namespace: {}", step), dirs.upper, -r);
        UniqueFd mnt(f.mnt), dev(f.dev);
        sys::start_fuse_overlayfs(fuse_overlay_options(dirs), dev.get(), -1);
        return mnt;
    }
    int mnt = mount_overlay_params(overlay_params(dirs, how), step);
    if (mnt < 0)
        throw_sys(fmt::format("overlayfs in a user namespace: {}", step), dirs.upper, -mnt);
    return UniqueFd(mnt);
}

namespace {

// The probe's layers in `scratch` (removed again by the caller's guard): a bottom layer
// with a file and a directory, a top one whose whiteout (a 0:0 character device, which
// an ordinary user may make) and user.overlay.opaque directory must hide them. Each way
// in `hows` is tried in turn: the first that mounts and hides them is the answer.
UsernsOverlay probe_overlay(const std::string& scratch, std::initializer_list<UsernsOverlay> hows,
                            std::string& why) {
    sys::mkdir_all(scratch, 0700);
    sys::ScopeGuard remove([&]() noexcept {
        try {
            sys::remove_all(scratch);
        } catch (const std::exception&) {  // left in tmp/: the store's staging cleanup
        }
    });
    OverlayDirs d;
    std::string bottom = scratch + "/bottom", top = scratch + "/top";
    d.lowers = {top, bottom};
    d.upper = scratch + "/upper";
    d.work = scratch + "/work";
    for (auto& dir : {bottom + "/d", top + "/d", d.upper, d.work}) sys::mkdir_all(dir, 0755);
    sys::write_file(bottom + "/gone", "x");
    sys::write_file(bottom + "/d/x", "x");
    // what unpack makes of a layer's whiteout and opaque directory as a user
    if (::mknod((top + "/gone").c_str(), S_IFCHR | 0600, makedev(0, 0)) != 0) {
        why = fmt::format("mknod a whiteout (0:0) as a user: {}", errno_name(errno));
        return UsernsOverlay::refused;
    }
    if (::setxattr((top + "/d").c_str(), "user.overlay.opaque", "y", 1, 0) != 0) {
        why = fmt::format("setxattr user.overlay.opaque: {}", errno_name(errno));
        return UsernsOverlay::refused;
    }
    for (auto how : hows) {
        UniqueFd mnt;
        try {
            mnt = userns_overlay_mount(d, how);
        } catch (const Error& e) {
            why = e.what();
            continue;
        }
        auto present = [&](const char* p) {
            return ::faccessat(mnt.get(), p, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
        };
        if (present("gone") || present("d/x") || !present("d")) {
            why = fmt::format(
                "{} in a user namespace shows what a whiteout or an opaque directory hides",
                how == UsernsOverlay::fuse ? "fuse-overlayfs" : "overlayfs");
            return UsernsOverlay::refused;
        }
        return how;
    }
    return UsernsOverlay::refused;
}

}  // namespace

UsernsOverlay probe_userns_overlay(const std::string& scratch, std::string& why) {
    return probe_overlay(scratch, {UsernsOverlay::lowerdir_add, UsernsOverlay::lowerdir}, why);
}

UsernsOverlay probe_fuse_overlay(const std::string& scratch, std::string& why) {
    if (sys::find_on_path("fuse-overlayfs").empty()) {
        why = "fuse-overlayfs is not installed";
        return UsernsOverlay::refused;
    }
    return probe_overlay(scratch, {UsernsOverlay::fuse}, why);
}

}  // namespace husk::image
