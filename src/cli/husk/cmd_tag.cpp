// husk tag SOURCE TARGET: another name for an image.
#include "cli/husk/command.h"
#include "engine/image_ops.h"

namespace husk::cli {
namespace {

void add_tag(CLI::App& app, Context& ctx, Commands& cmds) {
    auto names = std::make_shared<std::pair<std::string, std::string>>();
    auto* sub = app.add_subcommand("tag", "give an image another name: SOURCE TARGET");
    sub->add_option("source", names->first, "image name or id")->required();
    sub->add_option("target", names->second, "new name (host:5000/app:1)")->required();
    cmds.on(sub, [names, &ctx] {
        engine::tag_image(ctx.store(), names->first, names->second);
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(tag, add_tag);

}  // namespace husk::cli
