// Running a helper program and waiting for it: OCI hooks (also from the container's
// init, so async-signal-safe), CNI plugins, iptables.
#pragma once

#include <cstddef>
#include <cstdint>
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

// argv/envp for spawn_and_wait: pointers into `v` (which must outlive them), null-ended.
std::vector<char*> c_strings(std::vector<std::string>& v);

// spawn_and_wait's result as words: "exit status 3", "killed by signal 9", "timed out".
std::string describe_spawn_result(SpawnResult r);

}  // namespace husk::sys
