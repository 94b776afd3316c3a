// Raw system calls glibc 2.36 does not wrap (clone3, openat2, pidfd_send_signal,
// close_range with flags), as inline functions returning -1/errno like libc.
// Async-signal-safe: usable between clone and execve.
#pragma once

#include <linux/openat2.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdint>

namespace husk::sys {

// Layout of the kernel's struct clone_args (v2, with set_tid and cgroup).
struct CloneArgs {
    uint64_t flags = 0;
    uint64_t pidfd = 0;
    uint64_t child_tid = 0;
    uint64_t parent_tid = 0;
    uint64_t exit_signal = 0;
    uint64_t stack = 0;
    uint64_t stack_size = 0;
    uint64_t tls = 0;
    uint64_t set_tid = 0;
    uint64_t set_tid_size = 0;
    uint64_t cgroup = 0;
};

inline constexpr uint64_t kCloneIntoCgroup = 0x200000000ULL;

// fork-like clone3 (no CLONE_VM, no new stack): returns 0 in the child.
inline pid_t clone3(CloneArgs& args) {
    return static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof(CloneArgs)));
}

inline int openat2(int dirfd, const char* path, uint64_t flags, uint64_t mode, uint64_t resolve) {
    open_how how{};
    how.flags = flags;
    how.mode = mode;
    how.resolve = resolve;
    return static_cast<int>(::syscall(SYS_openat2, dirfd, path, &how, sizeof how));
}

inline int pidfd_send_signal(int pidfd, int sig) {
    return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

inline int pidfd_open(pid_t pid) {
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

inline int close_range(unsigned first, unsigned last, unsigned flags) {
    return static_cast<int>(::syscall(SYS_close_range, first, last, flags));
}

}  // namespace husk::sys
