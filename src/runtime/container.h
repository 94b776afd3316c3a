// The container lifecycle of the OCI runtime CLI: create, start, state, kill,
// delete, run, list, ps. Each call works on the state directory of one id
// under `root`, under that container's lock.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "oci/spec.h"
#include "oci/state.h"
#include "runtime/cgroup/stats.h"

namespace husk::runtime {

struct CreateOptions {
    std::string root;  // state root (--root)
    std::string id;
    std::string bundle;  // absolute or relative to cwd
    std::string pid_file;
    std::string console_socket;
    int console_fd =
        -1;  // an already connected console socket (foreground run), instead of the path
    bool no_pivot = false;
    bool no_new_keyring = false;
    int preserve_fds = 0;
    // Socket activation (systemd's LISTEN_FDS): fds 3..3+listen_fds-1 go to the container
    // before the --preserve-fds ones, with LISTEN_FDS=n and LISTEN_PID=1 in its env (runc).
    int listen_fds = 0;
    // The bundle's config.json already parsed by the caller (run), so it is parsed once
    // per process; null: create reads it.
    const oci::Spec* spec = nullptr;
    // Rootless (husk-runtime --rootless, or auto: not root on the host): cgroups only where
    // writable, no device rules (see cgroup::Manager::plan).
    bool rootless = false;
};

// What create last wrote to state.json (runtime/container/known_state.h): `run` hands it
// to start and delete, which then parse state.json only if it no longer holds that text.
struct KnownState;

// The LISTEN_FDS our caller passed us (0 unless LISTEN_PID is our pid), as runc reads them.
int socket_activation_fds();

// Create the container; the init waits for `start`. Returns the init's host pid.
pid_t create(const CreateOptions& opts, KnownState* known = nullptr);
void start(const std::string& root, const std::string& id, KnownState* known = nullptr);
oci::State state(const std::string& root, const std::string& id);
std::vector<oci::State> list(const std::string& root);
void kill(const std::string& root, const std::string& id, int sig, bool all);
// delete: a stopped or created container; a running one only with `force`.
// `force` on a missing id or a half-made state directory succeeds and cleans up.
void remove(const std::string& root, const std::string& id, bool force,
            KnownState* known = nullptr);
// Every process of the container (host pids).
std::vector<pid_t> processes(const std::string& root, const std::string& id);

// Freeze / thaw every process of the container (cgroup freezer).
void pause(const std::string& root, const std::string& id);
void resume(const std::string& root, const std::string& id);
// Apply new limits to a running (or paused, created) container.
void update(const std::string& root, const std::string& id, const oci::Resources& res);
// Usage and limits of a running (or paused) container's cgroup; throws
// "container not running" once it stopped.
cgroup::Stats stats(const std::string& root, const std::string& id);
// One `events --stats` record: {"type":"stats","id":..,"data":{..}}.
std::string stats_event(const std::string& root, const std::string& id);
// Print stats every `interval_ms` and an {"type":"oom"} record at each OOM kill, until
// the container stops. `emit` gets one JSON line per event.
void watch_events(const std::string& root, const std::string& id, int interval_ms,
                  void (*emit)(const std::string& line));

struct ExecOptions {
    std::string root, id;
    std::string process_file;       // --process: a process.json (else the flags below)
    std::vector<std::string> args;  // the command
    std::vector<std::string> env;   // added to the config's env (KEY=VALUE)
    std::string cwd, user;          // user: "uid[:gid]"
    std::vector<uint32_t> additional_gids;
    std::vector<std::string> caps;  // added to every capability set
    bool tty = false, no_new_privs = false, detach = false, ignore_paused = false;
    std::string pid_file, console_socket;
    int preserve_fds = 0;
};

// Run another process in a running container: its namespaces, its cgroup, the
// config's capabilities, rlimits, no_new_privs and seccomp. Returns its exit status
// (0 at once with `detach`).
int exec(const ExecOptions& opts);

// What an engine learns from and adds to run().
struct RunEvents {
    // Called after create and before start with the init's host pid (e.g. to set up
    // the container's network namespace). An exception deletes the container.
    std::function<void(pid_t)> created;
    // Filled in before the container is deleted: the OOM kills counted in its cgroup.
    uint64_t oom_kills = 0;
    // With a terminal: pass our stdin to it (docker's -i); false leaves it unread.
    bool terminal_input = true;
};

// create + start; without `detach`, wait for the init, delete the container and
// return its exit status (128+n for a signal), forwarding signals to it.
int run(const CreateOptions& opts, bool detach, RunEvents* events = nullptr);

}  // namespace husk::runtime
