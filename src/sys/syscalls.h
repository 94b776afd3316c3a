// Raw system calls glibc 2.36 does not wrap (clone3, openat2, pidfd_send_signal,
// close_range with flags), as inline functions returning -1/errno like libc.
// Async-signal-safe: usable between clone and execve.
#pragma once

#include <linux/openat2.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <initializer_list>
#include <span>

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

// Closes every fd from `first` up except those in `keep` (any order; -1 ignored). For a
// child between fork or clone and execve: O_CLOEXEC only acts at execve, and a lock
// (OFD or flock) lives as long as any copy of its fd, so a parent's fds must not wait
// in a process that may block for long (a container init before `start`).
inline void close_fds_except(unsigned first, std::span<const int> keep) noexcept {
    for (unsigned lo = first;;) {
        unsigned next = ~0U;  // the lowest kept fd at or above lo
        for (int k : keep)
            if (k >= 0 && static_cast<unsigned>(k) >= lo && static_cast<unsigned>(k) < next)
                next = static_cast<unsigned>(k);
        if (next > lo) close_range(lo, next == ~0U ? ~0U : next - 1, 0);
        if (next == ~0U) return;
        lo = next + 1;
    }
}
inline void close_fds_except(unsigned first, std::initializer_list<int> keep) noexcept {
    close_fds_except(first, std::span<const int>(keep.begin(), keep.size()));
}

// All `n` bytes at `p` written to `fd`, again after EINTR and short writes. false when a
// write fails (errno says why) or writes nothing. No allocation: usable in a child.
inline bool write_all(int fd, const void* p, size_t n) noexcept {
    const char* c = static_cast<const char*>(p);
    while (n > 0) {
        ssize_t w = ::write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        c += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

// All `n` bytes from `fd` into `p`, again after EINTR and short reads. false at a failed
// read (errno says why) or at EOF before `n` bytes. No allocation: usable in a child.
inline bool read_all(int fd, void* p, size_t n) noexcept {
    char* c = static_cast<char*>(p);
    while (n > 0) {
        ssize_t r = ::read(fd, c, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        c += r;
        n -= static_cast<size_t>(r);
    }
    return true;
}

}  // namespace husk::sys
