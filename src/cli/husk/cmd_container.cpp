// docker's management forms: `husk container ls|rm|inspect|start|stop|...` and
// `husk image ls|rm|pull|...` run the top-level command of the same meaning (one handler
// each: the arguments are rewritten before parsing, see management_alias), and
// `husk container prune [-f]` removes every stopped container.
#include <algorithm>

#include <fmt/format.h>

#include "cli/husk/container_cmd.h"
#include "cli/husk/prune_output.h"
#include "cli/husk/util.h"
#include "engine/prune.h"

namespace husk::cli {

std::optional<std::string> management_alias(const std::string& group, const std::string& verb) {
    static const std::map<std::string, std::map<std::string, std::string>> renamed{
        {"container", {{"ls", "ps"}, {"list", "ps"}, {"ps", "ps"}, {"remove", "rm"}}},
        {"image", {{"ls", "images"}, {"list", "images"}, {"rm", "rmi"}, {"remove", "rmi"}}},
    };
    // the verbs that name a top-level command as they are
    static const std::map<std::string, std::vector<std::string>> same{
        {"container", {"attach", "cp",   "create", "exec",    "inspect", "kill", "logs",
                       "pause",  "port", "rename", "restart", "rm",      "run",  "start",
                       "stats",  "stop", "top",    "unpause", "update",  "wait"}},
        {"image", {"build", "history", "import", "load", "pull", "push", "save", "tag"}},
    };
    auto g = renamed.find(group);
    if (g == renamed.end()) return std::nullopt;
    if (auto it = g->second.find(verb); it != g->second.end()) return it->second;
    auto& verbs = same.at(group);
    if (std::find(verbs.begin(), verbs.end(), verb) == verbs.end()) return std::nullopt;
    return verb;  // (main.cpp checks this husk has it)
}

namespace {

void add_container(CLI::App& app, Context& ctx, Commands& cmds) {
    auto* c = app.add_subcommand("container", "manage containers (ls, rm, inspect, ... and prune)");
    c->require_subcommand(1);
    c->footer(
        "Also: ls, rm, inspect, start, stop, restart, kill, logs, exec, run, create, attach, "
        "wait, pause, unpause, top, port, rename, update, cp, stats (as the commands of the "
        "same name)");
    auto force = std::make_shared<bool>(false);
    auto* prune = c->add_subcommand("prune", "remove every stopped container");
    prune->add_flag("-f,--force", *force, "do not ask");
    cmds.on(prune, [force, &ctx] {
        if (!confirmed("WARNING! This will remove all stopped containers.", *force)) return 0;
        print_prune("Containers", engine::prune_containers(engine_context(ctx)), true);
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(container, add_container);

}  // namespace husk::cli
