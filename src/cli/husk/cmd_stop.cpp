// husk stop [-t N] CONTAINER...    the stop signal, then SIGKILL after N seconds (10)
// husk kill [-s SIGNAL] CONTAINER...
// husk restart [-t N] CONTAINER...
#include <fmt/format.h>

#include "cli/husk/container_cmd.h"
#include "engine/lifecycle.h"
#include "runtime/signals.h"

namespace husk::cli {
namespace {

struct StopFlags {
    int timeout = 10;
    std::string signal = "KILL";
    std::vector<std::string> names;
};

void add_stop(CLI::App& app, Context& ctx, Commands& cmds) {
    auto f = std::make_shared<StopFlags>();
    auto* stop = app.add_subcommand("stop", "stop running containers");
    stop->add_option("-t,--time", f->timeout, "seconds to wait before killing it (10)");
    stop->add_option("containers", f->names, "containers")->required();
    cmds.on(stop, [f, &ctx] {
        auto ec = engine_context(ctx);
        return for_each_container(f->names, [&](const std::string& n) {
            engine::stop_container(ec, engine::lookup(ec, n), f->timeout);
            fmt::print("{}\n", n);
        });
    });

    auto* restart = app.add_subcommand("restart", "restart containers");
    restart->add_option("-t,--time", f->timeout, "seconds to wait before killing it (10)");
    restart->add_option("containers", f->names, "containers")->required();
    cmds.on(restart, [f, &ctx] {
        auto ec = engine_context(ctx);
        return for_each_container(f->names, [&](const std::string& n) {
            auto rec = engine::lookup(ec, n);
            engine::stop_container(ec, rec, f->timeout);
            rec = engine::lookup(ec, n);
            engine::start_container(ec, rec);
            fmt::print("{}\n", n);
        });
    });

    auto* kill = app.add_subcommand("kill", "send a signal to running containers");
    kill->add_option("-s,--signal", f->signal, "signal (KILL)");
    kill->add_option("containers", f->names, "containers")->required();
    cmds.on(kill, [f, &ctx] {
        auto ec = engine_context(ctx);
        int sig = runtime::parse_signal(f->signal);
        return for_each_container(f->names, [&](const std::string& n) {
            engine::kill_container(ec, engine::lookup(ec, n), sig);
            fmt::print("{}\n", n);
        });
    });
}

}  // namespace

HUSK_COMMAND(stop, add_stop);

}  // namespace husk::cli
