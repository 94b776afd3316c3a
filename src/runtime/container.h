// The container lifecycle of the OCI runtime CLI: create, start, state, kill,
// delete, run, list, ps. Each call works on the state directory of one id
// under `root`, under that container's lock.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "oci/state.h"

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
};

// Create the container; the init waits for `start`. Returns the init's host pid.
pid_t create(const CreateOptions& opts);
void start(const std::string& root, const std::string& id);
oci::State state(const std::string& root, const std::string& id);
std::vector<oci::State> list(const std::string& root);
void kill(const std::string& root, const std::string& id, int sig, bool all);
// delete: a stopped or created container; a running one only with `force`.
// `force` on a missing id or a half-made state directory succeeds and cleans up.
void remove(const std::string& root, const std::string& id, bool force);
// Every process of the container (host pids).
std::vector<pid_t> processes(const std::string& root, const std::string& id);

// What an engine learns from and adds to run().
struct RunEvents {
    // Called after create and before start with the init's host pid (e.g. to set up
    // the container's network namespace). An exception deletes the container.
    std::function<void(pid_t)> created;
    // Filled in before the container is deleted: the OOM kills counted in its cgroup.
    uint64_t oom_kills = 0;
};

// create + start; without `detach`, wait for the init, delete the container and
// return its exit status (128+n for a signal), forwarding signals to it.
int run(const CreateOptions& opts, bool detach, RunEvents* events = nullptr);

}  // namespace husk::runtime
