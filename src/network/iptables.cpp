#include "network/iptables.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/spawn.h"

extern char** environ;

namespace husk::network {

namespace {

std::vector<std::string> command(const std::string& table, const char* op, const std::string& chain,
                                 const std::vector<std::string>& rule) {
    std::vector<std::string> args = {"-t", table, op, chain};
    args.insert(args.end(), rule.begin(), rule.end());
    return args;
}

// Every husk on the host checks and changes the rules under one lock.
sys::UniqueFd host_lock() {
    const char* lock_path = "/run/husk-network.lock";
    sys::UniqueFd lock(::open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!lock) throw_sys("open", lock_path);
    while (::flock(lock.get(), LOCK_EX) != 0)
        if (errno != EINTR) throw_sys("flock", lock_path);
    return lock;
}

std::string iptables_path() {
    for (const char* p : {"/usr/sbin/iptables", "/sbin/iptables", "/usr/bin/iptables"})
        if (::access(p, X_OK) == 0) return p;
    return {};
}

}  // namespace

bool has_iptables() {
    return !iptables_path().empty();
}

namespace {

// `iptables -w ARGS...`, its output to `out` (stderr to /dev/null: -C complains of a rule
// it does not find); its exit status.
int run_iptables(std::vector<std::string> args, int out) {
    std::string path = iptables_path();
    if (path.empty()) throw Error("iptables not found (package iptables)");
    args.insert(args.begin(), {path, "-w"});
    auto argv = sys::c_strings(args);
    sys::UniqueFd null(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    sys::SpawnResult r = sys::spawn_and_wait(argv[0], argv.data(), environ, 0, nullptr, 0,
                                             out >= 0 ? out : null.get(), null.get());
    using Kind = sys::SpawnResult::Kind;
    if (r.kind == Kind::failed) throw_sys("run", argv[0], r.value);
    return r.kind == Kind::signaled ? 128 + r.value : r.value;  // no timeout was given
}

}  // namespace

int iptables(std::vector<std::string> args) {
    return run_iptables(std::move(args), -1);
}

std::string list_rules(const std::string& table, const std::string& chain) {
    sys::UniqueFd out(::memfd_create("iptables-S", MFD_CLOEXEC));
    if (!out) throw_sys("memfd_create", "iptables -S " + chain);
    if (run_iptables({"-t", table, "-S", chain}, out.get()) != 0) return {};
    if (::lseek(out.get(), 0, SEEK_SET) != 0) throw_sys("lseek", "iptables -S " + chain);
    return sys::read_to_end(out.get(), "iptables -S " + chain);
}

void ensure_rule(const std::string& table, const std::string& chain,
                 const std::vector<std::string>& rule, bool insert) {
    if (iptables(command(table, "-C", chain, rule)) == 0) return;
    auto lock = host_lock();
    if (iptables(command(table, "-C", chain, rule)) == 0) return;
    auto add = command(table, insert ? "-I" : "-A", chain, rule);
    if (insert) add.insert(add.begin() + 4, "1");
    if (int rc = iptables(add); rc != 0)
        throw Error(fmt::format("iptables -t {} {} {} {} failed (exit {})", table,
                                insert ? "-I" : "-A", chain, fmt::join(rule, " "), rc));
}

void delete_rule(const std::string& table, const std::string& chain,
                 const std::vector<std::string>& rule) {
    auto lock = host_lock();
    for (int i = 0; i < 16 && iptables(command(table, "-C", chain, rule)) == 0; ++i)
        iptables(command(table, "-D", chain, rule));
}

void delete_chain(const std::string& table, const std::string& chain) {
    auto lock = host_lock();
    if (iptables({"-t", table, "-F", chain}) == 0) iptables({"-t", table, "-X", chain});
}

}  // namespace husk::network
