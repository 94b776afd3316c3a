// husk update [-m SIZE] [--memory-swap SIZE] [--cpus N] [--pids-limit N] [--restart POLICY]
// CONTAINER...: new resource limits for containers, applied at once to a running one (the
// runtime's update) and kept for its next start; a new restart policy, followed from the
// container's next exit.
#include <cstdio>

#include <fmt/format.h>

#include "cli/husk/container_cmd.h"
#include "engine/lifecycle.h"
#include "engine/restart.h"
#include "engine/run.h"
#include "engine/update.h"
#include "sys/error.h"

namespace husk::cli {
namespace {

struct UpdateFlags {
    engine::UpdateOptions o;
    std::vector<std::string> names;
};

void add_update(CLI::App& app, Context& ctx, Commands& cmds) {
    auto f = std::make_shared<UpdateFlags>();
    auto* sub = app.add_subcommand("update", "change the resource limits of containers");
    sub->add_option("-m,--memory", f->o.memory, "memory limit (e.g. 64m)");
    sub->add_option("--memory-swap", f->o.memory_swap, "memory + swap limit; -1: unlimited swap");
    sub->add_option("--cpus", f->o.cpus, "number of CPUs");
    sub->add_option("--pids-limit", f->o.pids_limit, "most processes (-1: unlimited)");
    sub->add_option("--restart", f->o.restart,
                    "restart policy: no, always, unless-stopped, on-failure[:N]");
    sub->add_option("containers", f->names, "containers")->required();
    cmds.on(sub, [f, &ctx] {
        auto ec = engine_context(ctx);
        // the flags are checked once, before any container is changed
        try {
            engine::update_resources(f->o, 1 << 16);
            if (f->o.restart) engine::check_restart_policy(*f->o.restart);
        } catch (const Error& e) {  // bad input: docker's usage status, as run's
            throw Error(e.what(), ExitCode{engine::kExitEngineError});
        }
        return for_each_container(f->names, [&](const std::string& n) {
            engine::update_container(ec, engine::lookup(ec, n), f->o);
            fmt::print("{}\n", n);
        });
    });
}

}  // namespace

HUSK_COMMAND(update, add_update);

}  // namespace husk::cli
