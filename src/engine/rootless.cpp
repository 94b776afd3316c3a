#include "engine/rootless.h"

#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <exception>
#include <initializer_list>
#include <sstream>

#include <fmt/format.h>

#include "engine/idrange.h"
#include "image/owner_shift.h"
#include "runtime/namespaces.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/log.h"
#include "sys/spawn.h"
#include "sys/syscalls.h"

namespace husk::engine {

RootlessMaps rootless_maps(const std::string& user, uint32_t uid, uint32_t gid,
                           const std::string& subuid, const std::string& subgid,
                           bool helpers_present) {
    auto uids = subid_ranges(subuid, user);
    auto gids = subid_ranges(subgid, user);
    RootlessMaps m;
    m.uids = {{0, uid, 1}};
    m.gids = {{0, gid, 1}};
    if (uids.empty() && gids.empty()) {
        m.note = fmt::format(
            "husk: note: user {} has no range in /etc/subuid and /etc/subgid: the container "
            "has one id, root, mapped to uid {} (add a range for more, as for podman)",
            user, uid);
        return m;
    }
    if (uids.empty() || gids.empty())
        throw Error(fmt::format(
            "rootless: user {} has a range in {} but none in {}: add one "
            "(usermod --add-sub{}s)",
            user, uids.empty() ? "/etc/subgid" : "/etc/subuid",
            uids.empty() ? "/etc/subuid" : "/etc/subgid", uids.empty() ? "uid" : "gid"));
    if (!helpers_present)
        throw Error(fmt::format(
            "rootless: the ranges of user {} in /etc/subuid and /etc/subgid are set up through "
            "/usr/bin/newuidmap and /usr/bin/newgidmap: install the uidmap package",
            user));
    // The first range of each, up to 65536 ids: container ids 1..N (root is the user).
    uint32_t n = std::min({uids[0].size, gids[0].size, kContainerIds});
    m.uids.push_back({1, uids[0].host_id, n});
    m.gids.push_back({1, gids[0].host_id, n});
    return m;
}

RootlessMaps rootless_maps() {
    const passwd* pw = ::getpwuid(::geteuid());  // NOLINT(concurrency-mt-unsafe)
    if (pw == nullptr) throw Error(fmt::format("rootless: uid {} has no user name", ::geteuid()));
    auto text = [](const char* path) { return sys::read_file_if_exists(path).value_or(""); };
    bool helpers =
        sys::exists_follow("/usr/bin/newuidmap") && sys::exists_follow("/usr/bin/newgidmap");
    return rootless_maps(pw->pw_name, ::geteuid(), ::getegid(), text("/etc/subuid"),
                         text("/etc/subgid"), helpers);
}

namespace {

// The child of in_container_userns: 'r' once in its namespace, then after the parent's
// go 'O' and fn's answer, or 'E' and an error; never returns. `parent_ends` are the
// parent's ends of the two pipes, closed here: with them open, a parent killed before its
// go (or while the answer fills the pipe) would leave the child waiting for ever, holding
// the locks the fork handed it; the child also dies with the parent.
[[noreturn]] void userns_child(int go, int out, std::initializer_list<int> parent_ends,
                               pid_t parent, int join, const std::function<std::string()>& fn) {
    for (int fd : parent_ends) ::close(fd);
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(1);
    std::string answer;
    int code = 1;
    if (join >= 0 ? ::setns(join, CLONE_NEWUSER) != 0 : ::unshare(CLONE_NEWUSER) != 0) {
        answer =
            fmt::format("E{}: {}", join >= 0 ? "setns(CLONE_NEWUSER)" : "unshare(CLONE_NEWUSER)",
                        errno_name(errno));
    } else {
        char c = 0;
        if (!sys::write_all(out, "r", 1) || ::read(go, &c, 1) != 1) ::_exit(1);
        try {
            answer = "O" + fn();
            code = 0;
        } catch (const Error& e) {  // its errno, kind and exit code go back with it
            answer = fmt::format("E{} {} {}\n{}", e.code(), static_cast<int>(e.kind()),
                                 e.exit_code(), e.what());
        } catch (const std::exception& e) {
            answer = fmt::format("E0 0 0\n{}", e.what());
        }
    }
    (void)sys::write_all(out, answer.data(), answer.size());
    ::_exit(code);
}

// The child's "E<errno> <kind> <exit code>\n<message>" as the Error it threw.
Error error_of_child(const std::string& got) {
    int err = 0, kind = 0, exit = 0;
    size_t nl = got.find('\n');
    if (nl == std::string::npos) return Error(got.substr(1));
    std::istringstream head(got.substr(1, nl - 1));
    if (!(head >> err >> kind >> exit)) return Error(got.substr(1));
    std::string msg = got.substr(nl + 1);
    auto k = static_cast<ErrorKind>(kind);
    return exit != 0 ? Error(msg, ExitCode{exit}, k, err) : Error(msg, err, k);
}

}  // namespace

std::optional<std::string> in_container_userns(const std::vector<oci::IdMapping>& uids,
                                               const std::vector<oci::IdMapping>& gids,
                                               const std::function<std::string()>& fn, pid_t join) {
    sys::UniqueFd join_fd;
    if (join > 0) {
        std::string path = fmt::format("/proc/{}/ns/user", join);
        join_fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!join_fd) throw_sys("open", path);
    }
    std::array<int, 2> gp{}, op{};
    if (::pipe2(gp.data(), O_CLOEXEC) != 0) throw_sys("pipe2");
    sys::UniqueFd go_r(gp[0]), go_w(gp[1]);
    if (::pipe2(op.data(), O_CLOEXEC) != 0) throw_sys("pipe2");
    sys::UniqueFd out_r(op[0]), out_w(op[1]);
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) throw_sys("fork (a reader in the container's user namespace)");
    if (pid == 0)
        userns_child(go_r.get(), out_w.get(), {go_w.get(), out_r.get()}, parent,
                     join_fd ? join_fd.get() : -1, fn);
    sys::ChildGuard child(pid);
    go_r.reset();
    out_w.reset();
    std::string got;
    std::array<char, 4096> buf{};
    bool mapped = false;
    for (;;) {
        ssize_t n = ::read(out_r.get(), buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_sys("read", "the answer of the user namespace's reader");
        if (n == 0) break;
        got.append(buf.data(), static_cast<size_t>(n));
        if (!mapped && got[0] == 'r') {  // in its namespace: its maps, then go
            mapped = true;
            got.erase(0, 1);
            try {
                if (!join_fd) runtime::write_id_maps(pid, uids, gids);
            } catch (const Error& e) {
                log::debug("a user namespace with the container's maps: {}", e.what());
                return std::nullopt;
            }
            if (!sys::write_all(go_w.get(), "g", 1))
                throw_sys("write", "the user namespace reader's pipe");
            go_w.reset();
        }
    }
    int status = child.wait("the user namespace's reader");
    if (!got.empty() && got[0] == 'O' && WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return got.substr(1);
    if (!got.empty() && got[0] == 'E') throw error_of_child(got);
    throw Error(fmt::format("the reader in the container's user namespace failed ({})",
                            WIFSIGNALED(status) ? fmt::format("signal {}", WTERMSIG(status))
                                                : fmt::format("exit {}", WEXITSTATUS(status))));
}

namespace {

// The child of in_userns_raw, in its new user namespace: waits for its maps (the parent's
// go), runs `fn`, and reports a failure on `err`. Never returns; allocates nothing.
[[noreturn]] void raw_child(int go, int err, int parent_go, pid_t parent,
                            const std::function<bool(sys::RawError&)>& fn) noexcept {
    ::close(parent_go);  // a parent killed before its go is EOF, not a wait for ever
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(1);
    char c = 0;
    if (::read(go, &c, 1) != 1) ::_exit(1);
    sys::RawError e;
    if (fn(e)) ::_exit(0);
    (void)sys::write_all(err, &e, sizeof e);
    ::_exit(1);
}

}  // namespace

bool in_userns_raw(const std::vector<oci::IdMapping>& uids, const std::vector<oci::IdMapping>& gids,
                   const std::function<bool(sys::RawError&)>& fn) {
    std::array<int, 2> gp{}, ep{};
    if (::pipe2(gp.data(), O_CLOEXEC) != 0) throw_sys("pipe2");
    sys::UniqueFd go_r(gp[0]), go_w(gp[1]);
    if (::pipe2(ep.data(), O_CLOEXEC) != 0) throw_sys("pipe2");
    sys::UniqueFd err_r(ep[0]), err_w(ep[1]);
    pid_t parent = ::getpid();
    sys::CloneArgs args;
    args.flags = CLONE_NEWUSER;
    args.exit_signal = SIGCHLD;
    pid_t pid = sys::clone3(args);
    if (pid < 0) throw_sys("clone3 (a user namespace with the user's ranges)");
    if (pid == 0) raw_child(go_r.get(), err_w.get(), go_w.get(), parent, fn);
    sys::ChildGuard child(pid);
    go_r.reset();
    err_w.reset();
    try {
        runtime::write_id_maps(pid, uids, gids);
    } catch (const Error& e) {
        log::debug("a user namespace with the user's ranges: {}", e.what());
        return false;
    }
    if (!sys::write_all(go_w.get(), "g", 1)) throw_sys("write", "the user namespace child's pipe");
    go_w.reset();
    int status = child.wait("the child in a user namespace with the user's ranges");
    sys::RawError e;
    if (::read(err_r.get(), &e, sizeof e) == static_cast<ssize_t>(sizeof e)) {
        e.step.back() = 0;
        e.path.back() = 0;
        throw_sys(e.step.data(), e.path.data(), e.err);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw Error(fmt::format("the child in a user namespace with the user's ranges failed ({})",
                                WIFSIGNALED(status) ? fmt::format("signal {}", WTERMSIG(status))
                                                    : fmt::format("exit {}", WEXITSTATUS(status))));
    return true;
}

void provide_owner_shift() {
    image::set_owner_shift([]() -> std::optional<image::OwnerShift> {
        if (::geteuid() == 0) return std::nullopt;
        RootlessMaps m;
        try {
            m = rootless_maps();
        } catch (const Error& e) {  // said where a container is made; layers stay the user's
            log::debug("layers keep the user as owner: {}", e.what());
            return std::nullopt;
        }
        if (m.uids.size() < 2) return std::nullopt;  // no range: the user alone
        image::OwnerShift s;
        s.ranges.uids = m.uids;
        s.ranges.gids = m.gids;
        s.run = [](const image::UserRanges& r, const std::function<bool(sys::RawError&)>& fn) {
            return in_userns_raw(r.uids, r.gids, fn);
        };
        return s;
    });
}

bool permission_denied(const Error& e) {
    return e.code() == EACCES || e.code() == EPERM;
}

std::string as_user_or_container_root(const std::vector<oci::IdMapping>& uids,
                                      const std::vector<oci::IdMapping>& gids,
                                      const std::function<std::string(bool)>& fn) {
    if (uids.empty() || ::geteuid() == 0) return fn(false);
    std::exception_ptr refused;
    try {
        return fn(false);
    } catch (const Error& e) {
        if (!permission_denied(e)) throw;
        refused = std::current_exception();
    }
    auto answer = in_container_userns(uids, gids, [&] { return fn(true); });
    if (!answer) std::rethrow_exception(refused);  // the maps are not the user's any more
    return *answer;
}

void release_userns_rootfs(image::Store& store, const std::string& root_id,
                           const std::vector<oci::IdMapping>& uids,
                           const std::vector<oci::IdMapping>& gids) {
    std::string dir = fmt::format("{}/rootfs/{}", store.root(), root_id);
    as_user_or_container_root(uids, gids, [&](bool in_userns) {
        if (!in_userns) {
            store.release_rootfs(root_id);
            return std::string();
        }
        // what the user may not remove, removed as the root of its ids (never a mount)
        struct stat top {};
        if (::lstat(dir.c_str(), &top) != 0) return std::string();
        for (auto& name : sys::list_dir(dir)) {
            std::string p = fmt::format("{}/{}", dir, name);
            struct stat st {};
            if (::lstat(p.c_str(), &st) == 0 && st.st_dev != top.st_dev)
                continue;  // a mount: the store's to undo
            sys::remove_all(p);
        }
        return std::string();
    });
    store.release_rootfs(root_id);  // what the namespace emptied (gone already: nothing)
}

void drop_unmapped_mount_ids(oci::Spec& spec) {
    if (!spec.linux_) return;
    auto mapped = [](const std::vector<oci::IdMapping>& maps, const std::string& v) {
        unsigned long id = 0;
        try {
            id = std::stoul(v);
        } catch (const std::exception&) {
            return true;  // not ours to judge: the kernel says
        }
        return std::any_of(maps.begin(), maps.end(), [&](const oci::IdMapping& m) {
            return id >= m.container_id && id - m.container_id < m.size;
        });
    };
    for (auto& m : spec.mounts)
        std::erase_if(m.options, [&](const std::string& o) {
            if (o.starts_with("uid=")) return !mapped(spec.linux_->uid_mappings, o.substr(4));
            if (o.starts_with("gid=")) return !mapped(spec.linux_->gid_mappings, o.substr(4));
            return false;
        });
}

}  // namespace husk::engine
