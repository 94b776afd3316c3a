// `husk run` in the foreground: resolve (pull) the image, prepare the root
// filesystem, write the bundle, and run it with the runtime core in-process.
// Every failure before the container's process runs leaves nothing behind
// (record, bundle, root filesystem, cgroup, runtime state).
#pragma once

#include <functional>
#include <stdexcept>
#include <string>

#include "engine/options.h"

namespace husk::image {
class Store;
}

namespace husk::engine {

struct EngineContext {
    std::string data_root = "/var/lib/husk";
    // Runtime state (husk-runtime's --root) of the engine's containers: /run/husk for
    // the default data root, else <data root>/run (tests use their own data roots).
    std::string state_root() const;
    image::Store* store = nullptr;
    // Pulls `image` into the store when it is missing (set by the CLI, which owns the
    // registry options and the progress display).
    std::function<void(const std::string& image)> pull;
};

// docker's exit codes: the command's own status (128+n for a signal),
// 125 when husk itself failed, 126 not executable, 127 not found.
inline constexpr int kExitEngineError = 125;
inline constexpr int kExitCannotExec = 126;
inline constexpr int kExitNotFound = 127;

// Runs the container in the foreground and returns its exit code. Throws
// RunError (with the docker exit code) when the container could not be run.
int run_foreground(EngineContext& ctx, RunOptions opts);

class RunError : public std::runtime_error {
  public:
    RunError(const std::string& msg, int code) : std::runtime_error(msg), code_(code) {}
    int exit_code() const { return code_; }

  private:
    int code_;
};

// The path of husk-init: $HUSK_INIT, else next to the running executable, else
// /usr/libexec/husk/husk-init.
std::string find_init();

}  // namespace husk::engine
