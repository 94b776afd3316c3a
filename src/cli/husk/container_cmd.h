// Helpers shared by the container verbs (ps, logs, exec, stop, kill, start, restart,
// attach, rm, wait, inspect, create): the engine's context from the global flags,
// docker's per-container error reporting, and the {{.Field}} templates of --format.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "cli/husk/command.h"
#include "engine/run.h"

namespace husk::cli {

// --root made absolute (the monitor runs elsewhere); no image store opened.
engine::EngineContext engine_context(Context& ctx);

// Runs `each` for every name; an error is printed as one line and makes the result 1
// (docker goes on with the next container).
int for_each_container(const std::vector<std::string>& names,
                       const std::function<void(const std::string&)>& each);

// One object through a docker --format template (cli/template): "{{.State.Status}}",
// "json" for the whole object; no trailing newline. Lists use tmpl::format_rows.
std::string render_format(const std::string& format, const nlohmann::json& value);

}  // namespace husk::cli
