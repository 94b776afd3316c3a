// husk rename CONTAINER NEW_NAME
#include "cli/husk/container_cmd.h"
#include "engine/lifecycle.h"
#include "engine/update.h"

namespace husk::cli {
namespace {

struct RenameFlags {
    std::string name, new_name;
};

void add_rename(CLI::App& app, Context& ctx, Commands& cmds) {
    auto f = std::make_shared<RenameFlags>();
    auto* sub = app.add_subcommand("rename", "rename a container");
    sub->add_option("container", f->name, "container name or id")->required();
    sub->add_option("new_name", f->new_name, "its new name")->required();
    cmds.on(sub, [f, &ctx] {
        auto ec = engine_context(ctx);
        engine::rename_container(ec, engine::lookup(ec, f->name), f->new_name);
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(rename, add_rename);

}  // namespace husk::cli
