// OCI hooks. The runtime runs prestart/createRuntime (while the init waits before
// pivot_root), poststart (after start) and poststop (after delete); the init runs
// createContainer (before pivot_root) and startContainer (before execve) itself.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "oci/spec.h"
#include "sys/spawn.h"

namespace husk::runtime {

// Run `hooks` of `phase` in order, each with `state_json` on stdin, its timeout and
// env. Throws `<phase> hook #N "<path>": exit status 2: <its stderr>` on the first
// failure.
void run_hooks(const char* phase, const std::vector<oci::Hook>& hooks,
               const std::string& state_json);

// The same, but a failure is only logged as a warning (poststart, poststop).
void run_hooks_warn(const char* phase, const std::vector<oci::Hook>& hooks,
                    const std::string& state_json);

// A hook prepared for the init: argv/envp arrays built in the parent.
struct PlannedHook {
    std::string path;
    std::vector<std::string> args, env;
    std::vector<char*> argv, envp;
    int timeout = 0;  // seconds, 0 = none
};
std::vector<PlannedHook> plan_hooks(const std::vector<oci::Hook>& hooks);

// In the init (async-signal-safe): run one hook with `state` on stdin. A failure goes
// to the parent in the sync record (sync_send_hook_failure); its words:
// sys::describe_spawn_result.
sys::SpawnResult run_hook_in_init(const PlannedHook& h, const char* state, size_t len) noexcept;

}  // namespace husk::runtime
