#include "runtime/hooks.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/fd.h"
#include "sys/log.h"
#include "sys/spawn.h"

namespace husk::runtime {
namespace {

std::string run_one(const char* phase, size_t i, const oci::Hook& h, const std::string& state) {
    std::vector<std::string> args = h.args.empty() ? std::vector<std::string>{h.path} : h.args;
    std::vector<std::string> env = h.env;
    auto argv = sys::c_strings(args);
    auto envp = sys::c_strings(env);
    // The hook's stderr, for the error message (the first 512 bytes).
    sys::UniqueFd err(::memfd_create("hook-stderr", MFD_CLOEXEC));
    sys::SpawnResult r =
        sys::spawn_and_wait(h.path.c_str(), argv.data(), envp.data(), h.timeout.value_or(0),
                            state.data(), state.size(), -1, err ? err.get() : -1);
    std::string out;
    if (err) {
        char buf[512];
        ssize_t n = ::pread(err.get(), buf, sizeof buf, 0);
        if (n > 0) out.assign(buf, static_cast<size_t>(n));
        while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    }
    if (r.ok()) return "";
    std::string msg =
        fmt::format("{} hook #{} \"{}\": {}", phase, i, h.path, sys::describe_spawn_result(r));
    if (r.exited(127)) msg += " (not found or not executable)";
    if (!out.empty()) msg += ": " + out;
    return msg;
}

}  // namespace

void run_hooks(const char* phase, const std::vector<oci::Hook>& hooks,
               const std::string& state_json) {
    for (size_t i = 0; i < hooks.size(); ++i)
        if (auto err = run_one(phase, i, hooks[i], state_json); !err.empty()) throw Error(err);
}

void run_hooks_warn(const char* phase, const std::vector<oci::Hook>& hooks,
                    const std::string& state_json) {
    for (size_t i = 0; i < hooks.size(); ++i)
        if (auto err = run_one(phase, i, hooks[i], state_json); !err.empty()) log::warn("{}", err);
}

std::vector<PlannedHook> plan_hooks(const std::vector<oci::Hook>& hooks) {
    std::vector<PlannedHook> out(hooks.size());
    for (size_t i = 0; i < hooks.size(); ++i) {
        auto& p = out[i];
        p.path = hooks[i].path;
        p.args = hooks[i].args.empty() ? std::vector<std::string>{p.path} : hooks[i].args;
        p.env = hooks[i].env;
        p.timeout = hooks[i].timeout.value_or(0);
    }
    // Pointers only once the vector no longer moves.
    for (auto& p : out) {
        p.argv = sys::c_strings(p.args);
        p.envp = sys::c_strings(p.env);
    }
    return out;
}

sys::SpawnResult run_hook_in_init(const PlannedHook& h, const char* state, size_t len) noexcept {
    return sys::spawn_and_wait(h.path.c_str(), h.argv.data(), h.envp.data(), h.timeout, state, len,
                               -1, -1);
}

}  // namespace husk::runtime
