// Restart policies without a daemon. The container's monitor carries the policy out
// (monitor/restart_policy.h holds the rules and docker's backoff, for it and for us):
// after an exit it waits the backoff, then runs `husk container-restart ID`
// (restart_in_monitor), which starts the container again through the engine with its
// stdio on the monitor's fresh pipes, so the init is the monitor's child again and its
// logs, attach clients and exit code stay in one place. Nothing runs after a reboot:
// `husk start --all-restartable` (what a boot unit calls) starts what the policies want
// running, and `husk generate systemd` writes such a unit for one container.
#pragma once

#include <functional>
#include <string>

namespace husk::engine {

struct EngineContext;
struct ContainerRecord;

// Checks --restart's text; throws docker's one line (exit 125):
//   invalid restart policy 'x': use no, on-failure[:max-retries], always or unless-stopped
void check_restart_policy(const std::string& policy);

// Whether a boot starts it: always; unless-stopped and on-failure (when it failed, or
// died with the machine) unless stopped through husk.
bool restartable_at_boot(const ContainerRecord& rec);

// husk start --all-restartable: starts every container restartable_at_boot that is not
// running; `started` / `failed` are told of each (a failure does not stop the others).
void start_all_restartable(
    const EngineContext& ctx, const std::function<void(const ContainerRecord&)>& started,
    const std::function<void(const ContainerRecord&, const std::exception&)>& failed);

// The hidden `husk container-restart ID` the monitor runs (fds 3: report, 4, 5, 6: the
// container's stdout, stderr, stdin, 7: console socket; see monitor/husk-monitor.c).
// Starts the container again unless it was stopped through husk meanwhile; writes
// "ok PID\n" or "err MESSAGE\n" to fd 3. Its exit status.
int restart_in_monitor(const EngineContext& ctx, const std::string& id);

// husk generate systemd: a unit that starts the container at boot and stops it at
// shutdown, as podman's (Type=forking: `husk start` returns once the monitor runs).
std::string systemd_unit(const EngineContext& ctx, const ContainerRecord& rec,
                         const std::string& husk_path);

}  // namespace husk::engine
