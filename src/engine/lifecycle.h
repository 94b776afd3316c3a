// Detached containers as `husk` commands see them, with no daemon: every command
// reads the container database, and each running container has its own monitor
// (engine/monitor.h) that records how it ended. A container whose monitor died is
// found out here (its record says running, nobody holds monitor.lock) and recorded as
// exited with an unknown code (-1); its leftover processes are killed.
//
// Errors that docker reports with exit code 1 throw husk::Error with docker's text:
//   No such container: web
//   You cannot remove a running container 3f2a.... Stop the container before
//   attempting removal or force remove
#pragma once

#include <string>
#include <vector>

#include "engine/record.h"
#include "engine/run.h"

namespace husk::engine {

// The container named (id, unique id prefix or name), its status brought up to date;
// throws `No such container: KEY`.
ContainerRecord lookup(const EngineContext& ctx, const std::string& key);
// Every container, statuses brought up to date.
std::vector<ContainerRecord> list_containers(const EngineContext& ctx);

// Starts a created or exited container under a new monitor (network, then the
// runtime's start). `before_start` runs once the init is created and blocked (e.g. to
// attach, so no output is missed). No-op on a running container.
void start_container(const EngineContext& ctx, ContainerRecord& rec,
                     const std::function<void()>& before_start = {});

// The body of a start, the container's lock held: its root filesystem mounted again,
// `create` makes the init (blocked on its exec fifo) and returns its pid, then the
// network, `before_start`, the runtime's start; the record saved running. Used by
// start_container (create: a new monitor) and by the monitor's restarts (engine/restart.h).
void launch_container(const EngineContext& ctx, Containers& db, ContainerRecord& rec,
                      const std::function<pid_t()>& create,
                      const std::function<void()>& before_start = {});

// The signal that stops it: its config's StopSignal (image or --stop-signal), else SIGTERM.
int stop_signal_of(const EngineContext& ctx, const ContainerRecord& rec);
// stop: the stop signal, then SIGKILL after `timeout_s`; returns once the monitor has
// recorded the exit. No-op on a container that is not running.
void stop_container(const EngineContext& ctx, const ContainerRecord& rec, int timeout_s);
// kill: throws "Container ID is not running" when it is not.
void kill_container(const EngineContext& ctx, const ContainerRecord& rec, int sig);
// pause / unpause: freeze and thaw every process of a running container (docker's
// errors: "Container ID is not running", "... is already paused", "... is not paused").
void pause_container(const EngineContext& ctx, const ContainerRecord& rec);
void unpause_container(const EngineContext& ctx, const ContainerRecord& rec);
// stop, kill, exec of a paused container are refused as docker does:
// "Container ID is paused. Unpause the container before WHAT".
void refuse_if_paused(const ContainerRecord& rec, const char* what);
// rm: everything of the container (processes with `force`, runtime state, cgroups,
// root filesystem mount and snapshot, record, logs).
// With `volumes` (rm -v) its anonymous volumes too.
void remove_container(const EngineContext& ctx, const ContainerRecord& rec, bool force,
                      bool volumes = false);
// wait: blocks until the container is not running; its exit code.
int wait_container(const EngineContext& ctx, const ContainerRecord& rec);

// What the monitor execs when the container's init has exited (hidden command
// `container-cleanup`): the exit code and OOM kills recorded, the runtime state
// deleted, the container removed with --rm.
void cleanup_container(const EngineContext& ctx, const std::string& id);

// The container's OCI config (its bundle's config.json), as JSON text.
std::string container_config_json(const EngineContext& ctx, const ContainerRecord& rec);

}  // namespace husk::engine
