// The container's init: from clone to execve, in the order runc and crun use.
// Only async-signal-safe calls; failures go to the parent as one sync record.
#include "runtime/init.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/keyctl.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "runtime/procfs_guard.h"
#include "runtime/sync.h"
#include "sys/fd.h"
#include "sys/safe_path.h"
#include "sys/syscalls.h"
#include "sys/unix_socket.h"

namespace husk::runtime {
namespace {

using sys::UniqueFd;

// Our pid in the runtime's PID namespace, as the parent sends it with `go`.
int g_host_pid = 0;

int wait_for(const Plan& p, SyncType want) noexcept {
    SyncMsg m;
    int r = sync_recv(p.sync_fd, m);
    // EOF: the runtime died before telling us to go on; there is nobody to report to.
    if (r <= 0) ::_exit(1);
    if (m.type != want) init_fail(p, "sync with runtime: unexpected message", "", EPROTO);
    return m.err;
}

// The hooks' state JSON (prefix + host pid + suffix) in a static buffer; 0 length when
// it does not fit.
size_t hook_state(const std::string& prefix, const Plan& p, char* buf, size_t len) noexcept {
    char digits[16];
    int n = 0;
    unsigned v = static_cast<unsigned>(g_host_pid);
    do {
        digits[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v && n < 15);
    size_t need = prefix.size() + static_cast<size_t>(n) + p.hook_state_suffix.size();
    if (need > len) return 0;
    // A byte buffer of `need` bytes, not a C string: no terminating NUL is wanted.
    char* o = buf;
    std::memcpy(o, prefix.data(), prefix.size());  // NOLINT(bugprone-not-null-terminated-result)
    o += prefix.size();
    while (n > 0) *o++ = digits[--n];
    std::memcpy(o, p.hook_state_suffix.data(),  // NOLINT(bugprone-not-null-terminated-result)
                p.hook_state_suffix.size());
    return need;
}

char g_state_buf[65536];

// Run hooks of the init; returns 0 or the first failure (reported by the caller).
sys::SpawnResult run_init_hooks(const Plan& p, const std::string& prefix,
                                const std::vector<PlannedHook>& hooks,
                                const PlannedHook** failed) noexcept {
    size_t len = hook_state(prefix, p, g_state_buf, sizeof g_state_buf);
    for (const auto& h : hooks) {
        sys::SpawnResult r = run_hook_in_init(h, g_state_buf, len);
        if (!r.ok()) {
            *failed = &h;
            return r;
        }
    }
    return {};
}

void join_namespaces(const Plan& p) noexcept {
    for (const auto& j : p.joins) {
        if (::setns(j.fd, j.nstype) != 0) init_fail(p, "join namespace", j.path.c_str(), errno);
        ::close(j.fd);
    }
    if (p.unshare_cgroup_after_join && ::unshare(CLONE_NEWCGROUP) != 0)
        init_fail(p, "unshare cgroup namespace", "", errno);
}

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

// Write `value` to a file of the container's procfs, refusing anything else (a mount
// over /proc, or a bind of another procfs file, could redirect the write).
void write_procfs(const Plan& p, int rootfd, const char* path, const std::string& value) noexcept {
    int fd = open_procfs_file(rootfd, path, O_WRONLY);
    if (fd < 0) init_fail(p, "open procfs file (only the container's own procfs)", path, -fd);
    UniqueFd f(fd);
    if (::write(fd, value.data(), value.size()) != static_cast<ssize_t>(value.size()))
        init_fail(p, "write", path, errno);
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

void reset_signals() noexcept {
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; ++s) {
        if (s == SIGKILL || s == SIGSTOP) continue;
        ::sigaction(s, &sa, nullptr);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
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
    reset_signals();
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

}  // namespace

void init_hooks(const Plan& p, const std::vector<PlannedHook>& hooks, const char* phase) noexcept {
    const PlannedHook* failed = nullptr;
    sys::SpawnResult r = run_init_hooks(p, p.hook_state_prefix, hooks, &failed);
    if (r.ok()) return;
    sync_send_hook_failure(p.sync_fd, phase, failed->path.c_str(), r);
    ::_exit(1);
}

void init_fail(const Plan& p, const char* step, const char* path, int err) noexcept {
    sync_send(p.sync_fd, SyncType::error, err, step, path);
    ::_exit(1);
}

void init_main(const Plan& p) noexcept {
    // Not dumpable until execve: nobody may ptrace us or open /proc/self/exe meanwhile.
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    ::umask(0);
    g_host_pid = wait_for(p, SyncType::go);
    if (p.in_user_ns()) {
        // The parent wrote our id maps (or we were born in a joined namespace, whose maps
        // are set): become the namespace's root, as runc does.
        if (::setresgid(0, 0, 0) != 0) init_fail(p, "setresgid(0) in user namespace", "", errno);
        if (::setresuid(0, 0, 0) != 0) init_fail(p, "setresuid(0) in user namespace", "", errno);
    }
    join_namespaces(p);
    join_session_keyring(p);
    init_rootfs(p);
    // sysctls and oom_score_adj before /proc/sys becomes read-only, as runc does.
    set_identity(p);
    if (p.new_mount_ns) init_after_pivot(p);
    init_console(p);
    char exe[PATH_MAX];
    prepare_process(p, exe, sizeof exe);

    // Our runtime died before it heard we are ready: nobody will start us.
    if (sync_send(p.sync_fd, SyncType::ready) != 0) ::_exit(1);
    ::close(p.sync_fd);
    // We may wait long for `start`: nothing of our caller's waits with us (only stdio,
    // the preserved fds and the fifo). An inherited copy of an engine's lock fd would
    // hold its lock until then, and its owner dead would not release it.
    sys::close_fds_except(3 + static_cast<unsigned>(p.preserve_fds), {p.exec_fifo_fd});
    // Block until `start` writes to the exec fifo (we hold it open read-write, so the
    // read blocks rather than seeing EOF).
    char c;
    for (;;) {
        ssize_t n = ::read(p.exec_fifo_fd, &c, 1);
        if (n == 1) break;
        if (n < 0 && errno == EINTR) continue;
        ::_exit(1);
    }
    // The fifo stays open (close-on-exec) until execve: `start` waits for its last reader
    // to go before it runs the poststart hooks, so they see the container's program. One
    // in the range of preserved fds would be inherited: closed now.
    if (p.exec_fifo_fd < 3 + p.preserve_fds) ::close(p.exec_fifo_fd);
    if (!p.start_container_hooks.empty()) {
        const PlannedHook* failed = nullptr;
        if (!run_init_hooks(p, p.start_state_prefix, p.start_container_hooks, &failed).ok()) {
            const char msg[] = "husk-runtime: a startContainer hook failed: ";
            (void)!::write(2, msg, sizeof msg - 1);
            (void)!::write(2, failed->path.data(), failed->path.size());
            (void)!::write(2, "\n", 1);
            ::_exit(1);
        }
    }
    exec_process(p, exe);
}

void exec_main(const Plan& p) noexcept {
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    ::umask(0);
    wait_for(p, SyncType::go);
    // setns into the mount namespace also moves our root and cwd to the container's.
    join_namespaces(p);
    join_session_keyring(p);
    init_console(p);
    char exe[PATH_MAX];
    prepare_process(p, exe, sizeof exe);
    sync_send(p.sync_fd, SyncType::ready);
    ::close(p.sync_fd);
    exec_process(p, exe);
}

}  // namespace husk::runtime
