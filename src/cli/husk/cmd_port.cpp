// husk port CONTAINER [PRIVATE_PORT[/PROTO]]
// Where a running container's ports are published: "80/tcp -> 0.0.0.0:8080".
#include <fmt/format.h>

#include "cli/husk/container_cmd.h"
#include "engine/lifecycle.h"
#include "engine/port.h"

namespace husk::cli {
namespace {

struct PortFlags {
    std::string name, port;
};

void add_port(CLI::App& app, Context& ctx, Commands& cmds) {
    auto f = std::make_shared<PortFlags>();
    auto* sub = app.add_subcommand("port", "the published ports of a container");
    sub->add_option("container", f->name, "container name or id")->required();
    sub->add_option("private_port", f->port, "PRIVATE_PORT[/PROTO]: only this one");
    cmds.on(sub, [f, &ctx] {
        auto ec = engine_context(ctx);
        for (auto& l : engine::port_lines(ec, engine::lookup(ec, f->name), f->port))
            fmt::print("{}\n", l);
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(port, add_port);

}  // namespace husk::cli
