// The container's init: from clone to execve, in the order runc and crun use. Each
// step is the child side of its concept's file (namespaces, mounts, devices, process);
// failures go to the parent as one sync record.
#include "runtime/init.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <span>
#include <string_view>

#include "runtime/mounts.h"
#include "runtime/namespaces.h"
#include "runtime/process.h"
#include "runtime/sync.h"
#include "sys/fd.h"
#include "sys/syscalls.h"

namespace husk::runtime {

// --- child side: runs between clone and execve ---
namespace {

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
size_t hook_state(std::string_view prefix, const Plan& p, char* buf, size_t len) noexcept {
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

// Mapped when hooks first run: 64 KiB in .bss would sit between the data every run
// touches, and husk-runtime's entry makes its writable segments in one go
// (prefault_writable in cli/runtime/entry.c).
constexpr size_t kStateBufSize = 65536;
char* g_state_buf = nullptr;

// Run hooks of the init; returns 0 or the first failure (reported by the caller).
sys::SpawnResult run_init_hooks(const Plan& p, std::string_view prefix,
                                std::span<const PlannedHook> hooks,
                                const PlannedHook** failed) noexcept {
    if (hooks.empty()) return {};
    if (g_state_buf == nullptr) {
        void* m = ::mmap(nullptr, kStateBufSize, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) {
            *failed = hooks.data();
            return {sys::SpawnResult::Kind::failed, errno};
        }
        g_state_buf = static_cast<char*>(m);
    }
    size_t len = hook_state(prefix, p, g_state_buf, kStateBufSize);
    for (const auto& h : hooks) {
        sys::SpawnResult r = run_hook_in_init(h, g_state_buf, len);
        if (!r.ok()) {
            *failed = &h;
            return r;
        }
    }
    return {};
}

// Tell the parent we are ready, then block until `start` writes to the exec fifo.
void report_ready_and_wait_for_start(const Plan& p) noexcept {
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
}

// startContainer hooks: nobody listens on the sync socket any more, so a failure goes
// to stderr.
void run_start_container_hooks(const Plan& p) noexcept {
    if (p.start_container_hooks.empty()) return;
    const PlannedHook* failed = nullptr;
    if (!run_init_hooks(p, p.start_state_prefix, p.start_container_hooks, &failed).ok()) {
        const char msg[] = "husk-runtime: a startContainer hook failed: ";
        (void)!::write(2, msg, sizeof msg - 1);
        (void)!::write(2, failed->path.data(), failed->path.size());
        (void)!::write(2, "\n", 1);
        ::_exit(1);
    }
}

}  // namespace

void init_hooks(const Plan& p, std::span<const PlannedHook> hooks, const char* phase) noexcept {
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
    // Rootless, from `go` on: until then only our own user (who runs us) could, and it must
    // open our uid_map (Plan::dumpable_until_go).
    if (!p.dumpable_until_go) ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    ::umask(0);
    g_host_pid = wait_for(p, SyncType::go);
    make_time_namespace(p);
    if (p.dumpable_until_go && !p.dumpable_until_exec) ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    become_user_ns_root(p);
    join_namespaces(p);
    bring_loopback_up(p);
    join_session_keyring(p);
    init_rootfs(p);
    // sysctls and oom_score_adj before /proc/sys becomes read-only, as runc does.
    set_identity(p);
    if (p.new_mount_ns) init_after_pivot(p);
    init_console(p);
    char exe[PATH_MAX];
    prepare_process(p, exe, sizeof exe);
    // a change of uid (a process.user other than root) made us not dumpable again
    if (p.dumpable_until_exec) ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    report_ready_and_wait_for_start(p);
    run_start_container_hooks(p);
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

// --- end child side ---

}  // namespace husk::runtime
