#include "network/masquerade.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/fd.h"

namespace husk::network {

namespace {

// Runs iptables with `args`; its exit status.
int iptables(std::vector<std::string> args) {
    std::string path;
    for (const char* p : {"/usr/sbin/iptables", "/sbin/iptables", "/usr/bin/iptables"})
        if (::access(p, X_OK) == 0) {
            path = p;
            break;
        }
    if (path.empty()) throw Error("iptables not found (package iptables)");
    args.insert(args.begin(), path);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) throw_sys("fork");
    if (pid == 0) {
        int null = ::open("/dev/null", O_RDWR);
        if (null >= 0) {
            ::dup2(null, STDIN_FILENO);
            ::dup2(null, STDOUT_FILENO);
            ::dup2(null, STDERR_FILENO);  // -C complains of a rule it does not find
        }
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

void ensure_masquerade(const Network& net) {
    std::vector<std::string> rule = {"-t",
                                     "nat",
                                     "{}",
                                     "POSTROUTING",
                                     "-s",
                                     net.subnet,
                                     "!",
                                     "-d",
                                     net.subnet,
                                     "-m",
                                     "comment",
                                     "--comment",
                                     "husk network " + net.name,
                                     "-j",
                                     "MASQUERADE"};
    auto with = [&](const char* op) {
        auto r = rule;
        r[2] = op;
        r.insert(r.begin(), "-w");
        return r;
    };
    if (iptables(with("-C")) == 0) return;
    // every husk on the host checks and adds under one lock: the rule only once
    const char* lock_path = "/run/husk-network.lock";
    sys::UniqueFd lock(::open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!lock) throw_sys("open", lock_path);
    while (::flock(lock.get(), LOCK_EX) != 0)
        if (errno != EINTR) throw_sys("flock", lock_path);
    if (iptables(with("-C")) == 0) return;
    if (int rc = iptables(with("-A")); rc != 0)
        throw Error(fmt::format("iptables: adding the masquerade rule of {} failed (exit {})",
                                net.subnet, rc));
}

}  // namespace husk::network
