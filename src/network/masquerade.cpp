#include "network/masquerade.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/fd.h"
#include "sys/spawn.h"

extern char** environ;

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
    auto argv = sys::c_strings(args);
    // stdout and stderr to /dev/null: -C complains of a rule it does not find
    sys::UniqueFd null(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    sys::SpawnResult r =
        sys::spawn_and_wait(argv[0], argv.data(), environ, 0, nullptr, 0, null.get(), null.get());
    using Kind = sys::SpawnResult::Kind;
    if (r.kind == Kind::failed) throw_sys("run", argv[0], r.value);
    return r.kind == Kind::signaled ? 128 + r.value : r.value;  // no timeout was given
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
