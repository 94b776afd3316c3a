#include "sys/proc.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/syscalls.h"

namespace husk::sys {

std::optional<ProcStat> proc_stat(pid_t pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
    UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (!fd) return std::nullopt;
    char buf[1024];
    ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
    if (n <= 0) return std::nullopt;
    buf[n] = '\0';
    // comm may contain spaces and parentheses: fields start after the last ')'.
    char* p = std::strrchr(buf, ')');
    if (!p || p[1] == '\0') return std::nullopt;
    p += 2;
    ProcStat st;
    st.state = *p;
    // Field 3 is state; walk to field 4 (ppid) and field 22 (starttime).
    int field = 3;
    char* save = nullptr;
    for (char* tok = strtok_r(p, " ", &save); tok; tok = strtok_r(nullptr, " ", &save), ++field) {
        if (field == 4) st.ppid = static_cast<pid_t>(std::strtol(tok, nullptr, 10));
        if (field == 22) {
            st.start_time = std::strtoull(tok, nullptr, 10);
            break;
        }
    }
    return st;
}

bool process_alive(pid_t pid, uint64_t start_time) {
    if (pid <= 0) return false;
    auto st = proc_stat(pid);
    if (!st) return false;
    if (st->state == 'Z' || st->state == 'X') return false;
    return st->start_time == start_time;
}

void kill_and_wait(int pidfd, pid_t pid, const std::string& what) {
    if (pidfd_send_signal(pidfd, SIGKILL) != 0 && errno != ESRCH) throw_sys("kill", what);
    int st = 0;
    pid_t r = 0;
    while ((r = ::waitpid(pid, &st, 0)) < 0 && errno == EINTR) {
    }
    if (r == pid) return;  // ours, reaped
    pollfd p{pidfd, POLLIN, 0};
    while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
}

std::vector<pid_t> parse_ns_pids(std::string_view status) {
    std::vector<pid_t> ids;
    size_t at = status.starts_with("NSpid:") ? 0 : status.find("\nNSpid:");
    if (at == std::string_view::npos) return ids;
    std::string line(status.substr(status.find(':', at) + 1));
    line = line.substr(0, line.find('\n'));
    const char* p = line.c_str();
    for (;;) {
        char* end = nullptr;
        long id = std::strtol(p, &end, 10);
        if (end == p) break;
        ids.push_back(static_cast<pid_t>(id));
        p = end;
    }
    return ids;
}

std::optional<uint64_t> parse_signals_not_default(std::string_view status) {
    uint64_t mask = 0;
    for (std::string_view key : {"\nSigIgn:", "\nSigCgt:"}) {
        size_t at = status.find(key);
        if (at == std::string_view::npos) return std::nullopt;
        std::string_view hex = status.substr(at + key.size());
        while (!hex.empty() && (hex.front() == '\t' || hex.front() == ' ')) hex.remove_prefix(1);
        uint64_t v = 0;
        auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), v, 16);
        if (ec != std::errc() || end == hex.data()) return std::nullopt;
        mask |= v;
    }
    return mask;
}

uint64_t signals_not_default() noexcept {
    try {
        auto status = read_file_if_exists("/proc/self/status");
        if (!status) return ~uint64_t{0};
        return parse_signals_not_default(*status).value_or(~uint64_t{0});
    } catch (const std::exception&) {
        return ~uint64_t{0};
    }
}

std::vector<pid_t> ns_pids(pid_t tid) {
    // the whole file: NSpid comes after Groups, which can be long
    std::optional<std::string> status;
    try {
        status = read_file_if_exists(fmt::format("/proc/{}/status", tid));
    } catch (const std::exception&) {
        return {};  // gone while read (ESRCH) or not ours to read: no ids
    }
    return status ? parse_ns_pids(*status) : std::vector<pid_t>{};
}

}  // namespace husk::sys
