// husk rm [-f] [-v] CONTAINER...   everything of a container: processes (-f), runtime
// state, cgroups, root filesystem and its snapshot, record, bundle and logs.
// husk wait CONTAINER...           blocks until each stops; prints its exit code.
// husk container-cleanup ID        (hidden) what a container's monitor runs at its exit.
// husk container-restart ID        (hidden) what it runs to restart it (engine/restart.h).
#include <fmt/format.h>

#include "cli/husk/container_cmd.h"
#include "engine/lifecycle.h"
#include "engine/restart.h"

namespace husk::cli {
namespace {

struct RmFlags {
    bool force = false, volumes = false;
    std::vector<std::string> names;
    std::string id;
};

void add_rm(CLI::App& app, Context& ctx, Commands& cmds) {
    auto f = std::make_shared<RmFlags>();
    auto* rm = app.add_subcommand("rm", "remove containers");
    rm->add_flag("-f,--force", f->force, "kill a running container first");
    rm->add_flag("-v,--volumes", f->volumes, "remove its anonymous volumes too");
    rm->add_option("containers", f->names, "containers")->required();
    cmds.on(rm, [f, &ctx] {
        auto ec = engine_context(ctx);
        return for_each_container(f->names, [&](const std::string& n) {
            engine::remove_container(ec, engine::lookup(ec, n), f->force, f->volumes);
            fmt::print("{}\n", n);
        });
    });

    auto* wait = app.add_subcommand("wait", "wait for containers to stop; print exit codes");
    wait->add_option("containers", f->names, "containers")->required();
    cmds.on(wait, [f, &ctx] {
        auto ec = engine_context(ctx);
        return for_each_container(f->names, [&](const std::string& n) {
            fmt::print("{}\n", engine::wait_container(ec, engine::lookup(ec, n)));
            std::fflush(stdout);
        });
    });

    auto* cleanup = app.add_subcommand("container-cleanup", "");  // hidden: the monitor's
    cleanup->group("");
    cleanup->add_option("id", f->id)->required();
    cmds.on(cleanup, [f, &ctx] {
        engine::cleanup_container(engine_context(ctx), f->id);
        return 0;
    });

    auto* restart = app.add_subcommand("container-restart", "");  // hidden: the monitor's
    restart->group("");
    restart->add_option("id", f->id)->required();
    cmds.on(restart, [f, &ctx] { return engine::restart_in_monitor(engine_context(ctx), f->id); });
}

}  // namespace

HUSK_COMMAND(rm, add_rm);

}  // namespace husk::cli
