// Run a function in a forked child and collect what it writes and how it ended.
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "runtime/security/capabilities.h"

namespace husk::test {

struct ChildResult {
    int status = -1;     // raw wait status
    std::string output;  // everything the child wrote to `out`
    bool exited_ok() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }
};

// fork; the child runs fn(out) and _exits with its return value.
template <class Fn>
ChildResult run_child(Fn fn) {
    ChildResult r;
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return r;
    pid_t pid = fork();
    if (pid < 0) return r;
    if (pid == 0) {
        close(p[0]);
        _exit(fn(p[1]));
    }
    close(p[1]);
    char buf[4096];
    ssize_t n;
    while ((n = read(p[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0) r.output.append(buf, static_cast<size_t>(n));
    close(p[0]);
    while (waitpid(pid, &r.status, 0) < 0 && errno == EINTR) {
    }
    return r;
}

// Write "key=value\n" from a child (async-signal-safe enough for a test child).
inline void report(int fd, const char* key, long value) {
    char line[128];
    int n = snprintf(line, sizeof line, "%s=%ld\n", key, value);
    if (write(fd, line, static_cast<size_t>(n)) < 0) _exit(120);
}

// "key=value" lines (and "Key:\tvalue" lines of /proc/self/status) as a map.
inline std::map<std::string, std::string> parse_lines(const std::string& text) {
    std::map<std::string, std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        auto pos = line.find_first_of("=:");
        if (pos == std::string::npos) continue;
        std::string value = line.substr(pos + 1);
        auto start = value.find_first_not_of(" \t");
        out[line.substr(0, pos)] = start == std::string::npos ? "" : value.substr(start);
    }
    return out;
}

inline uint64_t hex_mask(const std::string& s) {
    return std::stoull(s, nullptr, 16);
}

// The runtime core's child-side steps for ids and capabilities, in its order:
// bounding set, keepcaps around the id change, then capset + ambient.
// Returns 0 or an exit code naming the failed step.
inline int drop_to(const runtime::security::CapSets& caps, uid_t uid) {
    if (runtime::security::drop_bounding(caps) != 0) return 10;
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return 11;
    if (setgroups(0, nullptr) != 0) return 12;
    if (setresgid(uid, uid, uid) != 0) return 13;
    if (setresuid(uid, uid, uid) != 0) return 14;
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return 15;
    if (runtime::security::apply_capabilities(caps) != 0) return 16;
    return 0;
}

// Exec /bin/cat /proc/self/status with stdout on `out`; returns only on failure.
inline int exec_cat_status(int out) {
    if (dup2(out, 1) != 1) return 20;
    char cat[] = "/bin/cat", status[] = "/proc/self/status";
    char* argv[] = {cat, status, nullptr};
    char* envp[] = {nullptr};
    execve(cat, argv, envp);
    return 21;
}

#define HUSK_REQUIRE_ROOT() \
    if (geteuid() != 0) GTEST_SKIP() << "needs root"

}  // namespace husk::test
