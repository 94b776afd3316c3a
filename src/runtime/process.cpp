// The container's process: identity (hostname, domain name, sysctls, oom_score_adj,
// personality), session keyring, rlimits, user switch, cwd, capabilities and seccomp
// in runc's order, the executable's lookup and the execve.
#include "runtime/process.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <string_view>

#include <fmt/format.h>

#include "oci/names.h"
#include "runtime/init.h"
#include "runtime/procfs_guard.h"
#include "runtime/procvirt.h"
#include "runtime/security/lsm.h"
#include "runtime/sync.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/syscalls.h"
#include "sys/unix_socket.h"

namespace husk::runtime {
namespace {

void plan_process(const oci::Process& pr, Plan& p) {
    p.uid = pr.user.uid;
    p.gid = pr.user.gid;
    p.additional_gids.assign(pr.user.additional_gids.begin(), pr.user.additional_gids.end());
    p.umask = pr.user.umask.value_or(022);
    p.cwd = pr.cwd.empty() ? "/" : pr.cwd;
    p.args = pr.args;
    p.env = pr.env;
    for (const auto& e : pr.env)
        if (e.rfind("PATH=", 0) == 0) p.path_env = e.substr(5);
    p.no_new_privileges = pr.no_new_privileges;
    for (size_t i = 0; i < pr.rlimits.size(); ++i) {
        const auto& r = pr.rlimits[i];
        int res = rlimit_resource(r.type);
        if (res < 0)
            throw Error(fmt::format("process.rlimits[{}].type: unknown rlimit \"{}\"", i, r.type));
        p.rlimits.push_back({res, r.soft, r.hard});
    }
    if (pr.oom_score_adj) {
        p.set_oom_score_adj = true;
        p.oom_score_adj = std::to_string(*pr.oom_score_adj);
    }
}

}  // namespace

int rlimit_resource(const std::string& name) {
    return oci::rlimit_number(name).value_or(-1);
}

void check_sysctl(const std::string& key, unsigned long flags) {
    auto starts = [&](const char* pfx) { return key.rfind(pfx, 0) == 0; };
    bool ipc = key == "kernel.msgmax" || key == "kernel.msgmnb" || key == "kernel.msgmni" ||
               key == "kernel.sem" || key == "kernel.shmall" || key == "kernel.shmmax" ||
               key == "kernel.shmmni" || key == "kernel.shm_rmid_forced" || starts("fs.mqueue.");
    if (ipc) {
        if (!(flags & CLONE_NEWIPC))
            throw Error(fmt::format("linux.sysctl: \"{}\" needs a private IPC namespace", key));
        return;
    }
    if (starts("net.")) {
        if (!(flags & CLONE_NEWNET))
            throw Error(fmt::format("linux.sysctl: \"{}\" needs a private network namespace", key));
        return;
    }
    if (key == "kernel.hostname" || key == "kernel.domainname") {
        if (!(flags & CLONE_NEWUTS))
            throw Error(fmt::format("linux.sysctl: \"{}\" needs a private UTS namespace", key));
        return;
    }
    throw Error(fmt::format(
        "linux.sysctl: \"{}\" is not namespaced: setting it would change the host", key));
}

void plan_identity(const oci::Spec& spec, unsigned long all_ns, Plan& p) {
    if (spec.hostname && !spec.hostname->empty()) {
        if (!(all_ns & CLONE_NEWUTS))
            throw Error("hostname: setting the hostname needs a private UTS namespace");
        p.set_hostname = true;
        p.hostname = *spec.hostname;
    }
    if (spec.domainname && !spec.domainname->empty()) {
        if (!(all_ns & CLONE_NEWUTS))
            throw Error("domainname: setting the domain name needs a private UTS namespace");
        p.set_domainname = true;
        p.domainname = *spec.domainname;
    }
    if (!spec.linux_) return;
    const oci::Linux& lx = *spec.linux_;
    for (const auto& [key, value] : lx.sysctl) {
        check_sysctl(key, all_ns);
        std::string path = "/proc/sys/" + key;
        for (size_t i = 10; i < path.size(); ++i)
            if (path[i] == '.') path[i] = '/';
        p.sysctls.emplace_back(path, value);
    }
    if (lx.personality) {
        const auto& d = lx.personality->domain;
        if (d != "LINUX" && d != "LINUX32")
            throw Error(fmt::format("linux.personality.domain: unknown domain \"{}\"", d));
        p.set_personality = true;
        p.personality = d == "LINUX32" ? PER_LINUX32 : PER_LINUX;
    }
}

void plan_process_security(const oci::Process& pr, const oci::Seccomp* seccomp,
                           const std::string& cache_dir, Plan& p) {
    security::check_process_labels(pr);
    plan_process(pr, p);
    p.terminal = pr.terminal;
    if (pr.console_size) {
        p.console_rows = pr.console_size->height;
        p.console_cols = pr.console_size->width;
    }
    if (pr.capabilities) {
        p.set_caps = true;
        p.caps = security::parse_capabilities(*pr.capabilities);
    }
    if (seccomp) {
        p.has_seccomp = true;
        p.seccomp = with_context("linux.seccomp", [&] {
            return security::load_or_compile_seccomp(*seccomp, cache_dir);
        });
    }
    p.finalize();
}

void Plan::finalize() {
    argv.clear();
    envp.clear();
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
}

// --- child side: runs between clone and execve ---
namespace {

using sys::UniqueFd;

// Write `value` to a file of the container's procfs, refusing anything else (a mount
// over /proc, or a bind of another procfs file, could redirect the write).
void write_procfs(const Plan& p, int rootfd, const char* path, std::string_view value) noexcept {
    int fd = open_procfs_file(rootfd, path, O_WRONLY);
    if (fd < 0) init_fail(p, "open procfs file (only the container's own procfs)", path, -fd);
    UniqueFd f(fd);
    if (::write(fd, value.data(), value.size()) != static_cast<ssize_t>(value.size()))
        init_fail(p, "write", path, errno);
}

void set_limits(const Plan& p) noexcept {
    for (const auto& r : p.rlimits) {
        rlimit rl{r.soft, r.hard};
        if (::setrlimit(r.resource, &rl) != 0) init_fail(p, "setrlimit", "", errno);
    }
    if (p.set_personality && ::personality(p.personality) < 0)
        init_fail(p, "personality", "", errno);
}

void switch_user(const Plan& p) noexcept {
    if (p.set_groups &&
        ::setgroups(p.additional_gids.size(),
                    p.additional_gids.empty() ? nullptr : p.additional_gids.data()) != 0)
        init_fail(p, "setgroups", "", errno);
    // Keep the permitted set across the uid change; the capability sets are set right after.
    if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
        init_fail(p, "prctl(PR_SET_KEEPCAPS)", "", errno);
    if (::setresgid(p.gid, p.gid, p.gid) != 0) init_fail(p, "setresgid", "", errno);
    if (::setresuid(p.uid, p.uid, p.uid) != 0) init_fail(p, "setresuid", "", errno);
    if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0)
        init_fail(p, "prctl(PR_SET_KEEPCAPS)", "", errno);
}

// chdir to process.cwd and check that it lies inside the root: a cwd reached through a
// leaked fd of the host (/proc/self/fd/N) is outside, and getcwd then fails with ENOENT
// (glibc) or does not start with '/' ("(unreachable)..."). With `may_defer`, a permission
// error returns false: the container's user may reach what root cannot (a root-squashed
// NFS export, a directory whose owner the user namespace does not map), so the caller
// tries again after switching user, as runc does.
bool enter_cwd(const Plan& p, bool may_defer) noexcept {
    if (::chdir(p.cwd.c_str()) != 0) {
        if (may_defer && (errno == EACCES || errno == EPERM)) return false;
        init_fail(p, "chdir to cwd", p.cwd.c_str(), errno);
    }
    char buf[PATH_MAX];
    if (::getcwd(buf, sizeof buf) == nullptr) {
        if (errno != ENOENT) init_fail(p, "check cwd (getcwd)", p.cwd.c_str(), errno);
        buf[0] = 0;
    }
    if (buf[0] != '/') init_fail(p, "cwd is outside the container's root", p.cwd.c_str(), EPERM);
    return true;
}

// Find argv[0] as execvp would, checking X_OK; the result goes to `out`.
void lookup(const Plan& p, char* out, size_t len) noexcept {
    const char* name = p.args[0].c_str();
    auto usable = [&](const char* path) -> int {
        struct stat st {};
        if (::stat(path, &st) != 0) return errno;
        if (S_ISDIR(st.st_mode)) return EACCES;
        return ::access(path, X_OK) == 0 ? 0 : errno;
    };
    if (std::strchr(name, '/')) {
        if (std::strlen(name) + 1 > len) init_fail(p, "lookup", name, ENAMETOOLONG);
        std::strcpy(out, name);
        if (int e = usable(out); e != 0) init_fail(p, "lookup", name, e == ENOENT ? ENOENT : e);
        return;
    }
    const char* path = p.path_env.empty()
                           ? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
                           : p.path_env.c_str();
    int found_eacces = 0;
    for (const char* s = path;;) {
        const char* e = std::strchr(s, ':');
        size_t dl = e ? static_cast<size_t>(e - s) : std::strlen(s);
        size_t nl = std::strlen(name);
        if (dl + nl + 2 <= len) {
            std::memcpy(out, dl ? s : ".", dl ? dl : 1);
            size_t o = dl ? dl : 1;
            out[o++] = '/';
            std::memcpy(out + o, name, nl + 1);
            int r = usable(out);
            if (r == 0) return;
            if (r == EACCES) found_eacces = EACCES;
        }
        if (!e) break;
        s = e + 1;
    }
    init_fail(p, "lookup", name, found_eacces ? EACCES : ENOENT);
}

// Load the seccomp filter; a notify listener fd goes to the parent, which hands it
// to the agent at linux.seccomp.listenerPath.
void load_seccomp(const Plan& p) noexcept {
    const char* step = "seccomp";
    int fd = security::install_seccomp(p.seccomp, &step);
    if (fd < 0) init_fail(p, step, "", -fd);
    if (p.seccomp.notify && fd > 0) {
        sync_send(p.sync_fd, SyncType::seccomp_fd);
        char one = 1;
        if (int r = sys::send_fd(p.sync_fd, fd, &one, 1); r < 0)
            init_fail(p, "send seccomp listener fd", "", -r);
        ::close(fd);
    }
}

// Only what is not SIG_DFL already (Plan::signals_to_reset): one call per such signal,
// not one per signal number.
void reset_signals(const Plan& p) noexcept {
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; ++s) {
        if (s == SIGKILL || s == SIGSTOP) continue;
        if (s <= 64 && (p.signals_to_reset & (uint64_t{1} << (s - 1))) == 0) continue;
        ::sigaction(s, &sa, nullptr);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

}  // namespace

// A fresh session keyring, so the container neither sees nor adds to the caller's keys
// (runc's "_ses.<id>"). As runc: a kernel without keyrings (ENOSYS) or a full key quota
// (EDQUOT, older kernels) leaves the caller's keyring; the new keyring is made
// searchable by its user, so a process that changes uid still finds it.
void join_session_keyring(const Plan& p) noexcept {
    if (p.session_keyring.empty()) return;
    const char* name = p.session_keyring.c_str();
    long id = ::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name);
    if (id < 0) {
        if (errno == ENOSYS || errno == EDQUOT) return;
        init_fail(p, "join session keyring", name, errno);
    }
    // "type;uid;gid;perm;description", perm in hex.
    char desc[512];
    long n = ::syscall(SYS_keyctl, KEYCTL_DESCRIBE, id, desc, sizeof desc);
    if (n < 0) init_fail(p, "describe session keyring", name, errno);
    desc[sizeof desc - 1] = 0;
    const char* f = desc;
    for (int semis = 0; *f && semis < 3; ++f) semis += *f == ';';
    unsigned long perm = 0;
    for (; *f && *f != ';'; ++f) {
        int d = *f >= '0' && *f <= '9' ? *f - '0' : *f >= 'a' && *f <= 'f' ? *f - 'a' + 10 : -1;
        if (d < 0) init_fail(p, "parse session keyring permissions", name, EINVAL);
        perm = perm * 16 + static_cast<unsigned long>(d);
    }
    constexpr unsigned long kUserSearch = 0x00080000;  // KEY_USR_SEARCH
    if (::syscall(SYS_keyctl, KEYCTL_SETPERM, id, perm | kUserSearch) != 0)
        init_fail(p, "set session keyring permissions", name, errno);
}

void set_identity(const Plan& p) noexcept {
    if (p.set_hostname && ::sethostname(p.hostname.data(), p.hostname.size()) != 0)
        init_fail(p, "sethostname", p.hostname.c_str(), errno);
    if (p.set_domainname && ::setdomainname(p.domainname.data(), p.domainname.size()) != 0)
        init_fail(p, "setdomainname", p.domainname.c_str(), errno);
    if (p.sysctls.empty() && !p.set_oom_score_adj) return;
    UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    for (const auto& [path, value] : p.sysctls) write_procfs(p, root.get(), path.c_str(), value);
    if (p.set_oom_score_adj)
        write_procfs(p, root.get(), "/proc/self/oom_score_adj", p.oom_score_adj);
}

// The process part shared by the init and exec: rlimits, capabilities, seccomp (in
// runc's order), user, umask, cwd, the executable; ends ready to execve `exe`.
void prepare_process(const Plan& p, char* exe, size_t len) noexcept {
    set_limits(p);
    const char* step = "capabilities";
    // Before the capabilities go: a real-time policy or a negative nice needs CAP_SYS_NICE.
    if (int r = apply_process_attrs(p.attrs, &step); r < 0) init_fail(p, step, "", -r);
    if (p.set_caps) {
        if (int r = security::drop_bounding(p.caps, &step); r < 0) init_fail(p, step, "", -r);
    }
    // The cwd and its check come before any filter: a profile may deny getcwd or chdir
    // to the container's program, never to this check.
    bool in_cwd = enter_cwd(p, /*may_defer=*/true);
    // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it before the
    // capabilities are dropped (the profile must allow what follows, as docker's does).
    procvirt::install_sysinfo_filter(p);  // before any filter of the container's own
    if (p.has_seccomp && !p.no_new_privileges) load_seccomp(p);
    switch_user(p);
    if (p.set_caps) {
        if (int r = security::apply_capabilities(p.caps, &step); r < 0) init_fail(p, step, "", -r);
    }
    ::umask(p.umask);
    if (!in_cwd) enter_cwd(p, /*may_defer=*/false);
    lookup(p, exe, len);
    if (p.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        init_fail(p, "prctl(PR_SET_NO_NEW_PRIVS)", "", errno);
    // A notify listener must reach the parent before it leaves; other filters are
    // loaded as close to execve as possible.
    if (p.has_seccomp && p.no_new_privileges && p.seccomp.notify) load_seccomp(p);
}

// From here on nothing reports to the parent any more: load a late seccomp filter,
// close what the container must not inherit, reset signals, execve.
[[noreturn]] void exec_process(const Plan& p, const char* exe) noexcept {
    if (p.has_seccomp && p.no_new_privileges && !p.seccomp.notify) {
        const char* s = "seccomp";
        if (security::install_seccomp(p.seccomp, &s) < 0) {
            const char msg[] = "husk-runtime: loading the seccomp filter failed\n";
            (void)!::write(2, msg, sizeof msg - 1);
            ::_exit(1);
        }
    }
    // Every fd above the preserved ones closes at execve.
    sys::close_range(3 + static_cast<unsigned>(p.preserve_fds), ~0U, CLOSE_RANGE_CLOEXEC);
    reset_signals(p);
    ::execve(exe, p.argv.data(), p.envp.data());
    int err = errno;
    const char msg[] = "husk-runtime: exec failed: ";
    (void)!::write(2, msg, sizeof msg - 1);
    (void)!::write(2, exe, std::strlen(exe));
    const char* why = std::strerror(err);
    (void)!::write(2, ": ", 2);
    (void)!::write(2, why, std::strlen(why));
    (void)!::write(2, "\n", 1);
    ::_exit(err == ENOENT ? 127 : 126);
}
// --- end child side ---

}  // namespace husk::runtime
