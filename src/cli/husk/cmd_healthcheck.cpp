// husk healthcheck run CONTAINER: runs the container's health check once and records the
// result (engine/health.h); exit 0 when it passed, 1 when not (podman's command). The
// container's monitor runs it every --health-interval.
#include <fmt/format.h>

#include "cli/husk/container_cmd.h"
#include "engine/health.h"
#include "engine/lifecycle.h"
#include "sys/error.h"

namespace husk::cli {
namespace {

void add_healthcheck(CLI::App& app, Context& ctx, Commands& cmds) {
    auto name = std::make_shared<std::string>();
    auto* hc = app.add_subcommand("healthcheck", "run a container's health check");
    hc->require_subcommand(1);
    auto* run = hc->add_subcommand("run", "run the check once: exit 0 healthy, 1 unhealthy");
    run->add_option("container", *name, "container name or id")->required();
    cmds.on(run, [name, &ctx] {
        auto ec = engine_context(ctx);
        auto rec = engine::lookup(ec, *name);
        if (!engine::run_health_check(ec, rec)) {
            fmt::print("unhealthy\n");
            return 1;
        }
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(healthcheck, add_healthcheck);

}  // namespace husk::cli
