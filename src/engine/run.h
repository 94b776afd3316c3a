// `husk run` in the foreground: resolve (pull) the image, prepare the root
// filesystem, write the bundle, and run it with the runtime core in-process.
// Every failure before the container's process runs leaves nothing behind
// (record, bundle, root filesystem, cgroup, runtime state).
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

#include "engine/options.h"
#include "sys/error.h"

namespace husk::image {
class Store;
}

namespace husk::engine {

struct EngineContext {
    std::string data_root = "/var/lib/husk";
    // Runtime state (husk-runtime's --root) of the engine's containers: /run/husk (as a
    // user $XDG_RUNTIME_DIR/husk) for the default data root, else <data root>/run (tests
    // use their own data roots); engine/paths.h.
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

// Runs the container in the foreground and returns its exit code. Throws an Error
// with the docker exit code (Error::exit_code) when the container could not be run.
int run_foreground(EngineContext& ctx, RunOptions opts);

// Throw `e` as the error a command ends with: with its own exit code when it has one,
// else 125 (husk failed); message, errno and kind kept.
[[noreturn]] void rethrow_exiting(const std::exception& e);

// --log-opt of the json-file log a detached container's monitor writes.
struct LogOptions {
    int64_t max_size = 0;  // max-size (0: unbounded)
    int max_file = 1;      // max-file
};

// `husk create` (and the first half of `husk run -d`): the record, root filesystem
// and bundle of a new container, left "created" (nothing runs). Throws an Error with
// its exit code.
struct ContainerRecord;
ContainerRecord create_container(EngineContext& ctx, RunOptions opts, const LogOptions& log = {});

// The docker exit code and message for a failed create (of the container's `args`):
// the command could not be found (127) or executed (126), else husk failed (125).
Error create_error(const Error& e, const std::vector<std::string>& args);

}  // namespace husk::engine
