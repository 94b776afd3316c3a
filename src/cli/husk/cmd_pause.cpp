// husk pause CONTAINER...     freeze every process of running containers (cgroup freezer)
// husk unpause CONTAINER...   thaw them
#include <fmt/format.h>

#include "cli/husk/container_cmd.h"
#include "engine/lifecycle.h"

namespace husk::cli {
namespace {

void add_pause(CLI::App& app, Context& ctx, Commands& cmds) {
    auto names = std::make_shared<std::vector<std::string>>();
    for (bool pause : {true, false}) {
        auto* sub = pause ? app.add_subcommand("pause", "pause every process of containers")
                          : app.add_subcommand("unpause", "unpause paused containers");
        sub->add_option("containers", *names, "containers")->required();
        cmds.on(sub, [names, pause, &ctx] {
            auto ec = engine_context(ctx);
            return for_each_container(*names, [&](const std::string& n) {
                auto rec = engine::lookup(ec, n);
                if (pause)
                    engine::pause_container(ec, rec);
                else
                    engine::unpause_container(ec, rec);
                fmt::print("{}\n", n);
            });
        });
    }
}

}  // namespace

HUSK_COMMAND(pause, add_pause);

}  // namespace husk::cli
