// husk diff CONTAINER: the files a container added (A), changed (C) and deleted (D).
#include <fmt/format.h>

#include "cli/husk/container_cmd.h"
#include "engine/diff.h"
#include "image/store.h"

namespace husk::cli {
namespace {

void add_diff(CLI::App& app, Context& ctx, Commands& cmds) {
    auto name = std::make_shared<std::string>();
    auto* sub = app.add_subcommand("diff", "inspect changes to files on a container's filesystem");
    sub->add_option("container", *name, "container")->required();
    cmds.on(sub, [name, &ctx] {
        auto ec = engine_context(ctx);
        ec.store = &ctx.store();
        for (auto& c : engine::container_changes(ec, *name))
            fmt::print("{} {}\n", image::change_letter(c.kind), c.path);
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(diff, add_diff);

}  // namespace husk::cli
