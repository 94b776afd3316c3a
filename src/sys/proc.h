// Facts about host processes read from /proc.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace husk::sys {

struct ProcStat {
    char state = '?';         // R S D Z T X ...
    uint64_t start_time = 0;  // field 22, clock ticks since boot
    pid_t ppid = 0;
};

// /proc/PID/stat, or nullopt when the process does not exist.
std::optional<ProcStat> proc_stat(pid_t pid);

// True when `pid` exists, is not a zombie, and started at `start_time`
// (a reused pid is never mistaken for the process we knew).
bool process_alive(pid_t pid, uint64_t start_time);

// The ids of task `tid` (a process or a thread) in each PID namespace, ours first and its
// own last (/proc/TID/status NSpid); empty when it does not exist.
std::vector<pid_t> ns_pids(pid_t tid);

// SIGKILL to the process of `pidfd` (whose pid is `pid`), then its end awaited: reaped
// when it is our child, else until the pidfd reports its exit. Throws naming `what`.
void kill_and_wait(int pidfd, pid_t pid, const std::string& what);

// The NSpid line of a /proc/TID/status text, as ns_pids reads it; empty without one.
std::vector<pid_t> parse_ns_pids(std::string_view status);

// The signals whose disposition in this process is not SIG_DFL (ignored or caught; bit
// s-1 for signal s, from /proc/self/status SigIgn and SigCgt): what a child must reset
// before it execs. All bits set when they cannot be read.
uint64_t signals_not_default() noexcept;

// The SigIgn | SigCgt masks of a /proc/PID/status text; nullopt when one is missing.
std::optional<uint64_t> parse_signals_not_default(std::string_view status);

}  // namespace husk::sys
