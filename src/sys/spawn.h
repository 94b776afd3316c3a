// Running a helper program and waiting for it: OCI hooks (also from the container's
// init, so async-signal-safe), CNI plugins, iptables.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace husk::sys {

// How a spawned program ended.
struct SpawnResult {
    enum class Kind : uint8_t {
        exited,     // value: its exit status
        signaled,   // value: the signal that killed it
        timed_out,  // killed (SIGKILL) at its timeout
        failed,     // value: errno of the pipe, fork or wait (it may never have run)
    };
    Kind kind = Kind::exited;
    int value = 0;

    bool ok() const noexcept { return kind == Kind::exited && value == 0; }
    bool exited(int status) const noexcept { return kind == Kind::exited && value == status; }
};

// fork + execve `path` with `input` (`len` bytes) on its stdin, its stdout on `out_fd`
// and its stderr on `err_fd` (-1: ours), its signal mask cleared; waits for it within
// `timeout_s` seconds (0: no limit; then SIGKILL). Async-signal-safe, allocates nothing.
// An execve failure shows as exit status 127.
SpawnResult spawn_and_wait(const char* path, char* const* argv, char* const* envp, int timeout_s,
                           const char* input, size_t len, int out_fd, int err_fd) noexcept;

// The end of a forked child that becomes a detached helper (husk-dns, husk-proxy, pasta):
// stdin and stdout on `null`, stderr on `err` (`null` when negative), every descriptor from
// 3 up closed but `keep` (which lose O_CLOEXEC), the signal mask cleared and the usual
// termination signals back to their default action, the working directory /, then
// execv(argv[0], argv) (execve with `envp` when not null); _exit(127) when that fails.
// Async-signal-safe.
[[noreturn]] void exec_detached(char* const* argv, int null, int err,
                                std::initializer_list<int> keep,
                                char* const* envp = nullptr) noexcept;

// `argv` run as a detached helper (exec_detached) by a double fork: its own session, its
// parent gone before it runs (it belongs to no command of ours; the nearest subreaper reaps
// it). stderr appends to `err_path` (null: /dev/null). With `userns_fd` not -1, it enters
// that user namespace first (exits 126 when it cannot); with `envp`, that environment.
// Returns once the middle child is reaped; false when a fork failed.
bool spawn_detached(char* const* argv, const char* err_path, std::initializer_list<int> keep,
                    int userns_fd = -1, char* const* envp = nullptr);

// A forked child of ours that must not outlive the scope: SIGKILLed and reaped when the
// scope is left before wait() reaped it (an error on the way, a child that holds a
// namespace only while we need it).
class ChildGuard {
  public:
    explicit ChildGuard(pid_t pid) noexcept : pid_(pid) {}
    ChildGuard(const ChildGuard&) = delete;
    ChildGuard& operator=(const ChildGuard&) = delete;
    ~ChildGuard();
    // Waits for the child (EINTR retried) and returns its wait status; throws naming `what`.
    int wait(const std::string& what);

  private:
    pid_t pid_;
};

// argv/envp for spawn_and_wait: pointers into `v` (which must outlive them), null-ended.
std::vector<char*> c_strings(std::vector<std::string>& v);

// spawn_and_wait's result as words: "exit status 3", "killed by signal 9", "timed out".
std::string describe_spawn_result(SpawnResult r);

}  // namespace husk::sys
