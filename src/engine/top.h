// `husk top CONTAINER [ps OPTIONS]`: the host's ps(1) run with the options given
// (docker's default -ef), its lines kept for the container's processes only.
#pragma once

#include <sys/types.h>
#include <string>
#include <vector>

#include "engine/record.h"
#include "engine/run.h"

namespace husk::engine {

struct TopResult {
    std::vector<std::string> titles;                  // ps's header, split ("UID", "PID", ...)
    std::vector<std::vector<std::string>> processes;  // one row per process, as many columns
};

// ps's output reduced to the rows whose PID column is one of `pids`, as docker parses it:
// columns split on blanks, the last one (the command) keeps its spaces. Throws when the
// header has no PID column.
TopResult parse_ps_output(const std::string& text, const std::vector<pid_t>& pids);

// Throws "Container ID is not running" unless it runs; ps's own error when it fails.
TopResult top(const EngineContext& ctx, const ContainerRecord& rec,
              const std::vector<std::string>& ps_args);

}  // namespace husk::engine
