// Running a helper program and waiting for it: OCI hooks (also from the container's
// init, so async-signal-safe), CNI plugins, iptables.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace husk::sys {

// fork + execve `path` with `input` (`len` bytes) on its stdin, its stdout on `out_fd`
// and its stderr on `err_fd` (-1: ours), its signal mask cleared; waits for it within
// `timeout_s` seconds (0: no limit; then SIGKILL). Async-signal-safe, allocates nothing.
// Returns 0 on exit status 0, 1000 + status, 2000 + signal, -ETIMEDOUT, or -errno.
int spawn_and_wait(const char* path, char* const* argv, char* const* envp, int timeout_s,
                   const char* input, size_t len, int out_fd, int err_fd) noexcept;

// argv/envp for spawn_and_wait: pointers into `v` (which must outlive them), null-ended.
std::vector<char*> c_strings(std::vector<std::string>& v);

// spawn_and_wait's result as words: "exit status 3", "killed by signal 9", "timed out".
std::string describe_spawn_result(int code);

}  // namespace husk::sys
