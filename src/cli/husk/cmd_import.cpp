// husk import [-c CHANGE]... [-m MESSAGE] FILE|- [IMAGE]: a tar as a one-layer image;
// prints the image id (docker's "sha256:...").
#include <fmt/format.h>

#include "build/changes.h"
#include "cli/husk/command.h"
#include "engine/image_ops.h"

namespace husk::cli {
namespace {

void add_import(CLI::App& app, Context& ctx, Commands& cmds) {
    auto o = std::make_shared<engine::ImportOptions>();
    auto changes = std::make_shared<std::vector<std::string>>();
    auto* sub = app.add_subcommand("import", "create an image from a tar archive of a filesystem");
    sub->add_option("file", o->source, "tar file (plain or compressed), or - for stdin")
        ->required();
    sub->add_option("image", o->name, "name of the new image (host:5000/app:1)");
    sub->add_option("-c,--change", *changes,
                    "Dockerfile instruction for the image config (CMD, ENTRYPOINT, ENV, EXPOSE, "
                    "HEALTHCHECK, LABEL, ONBUILD, SHELL, STOPSIGNAL, USER, VOLUME, WORKDIR)")
        ->allow_extra_args(false);
    sub->add_option("-m,--message", o->message, "history comment");
    cmds.on(sub, [o, changes, &ctx] {
        if (!changes->empty()) o->changes = build::commit_changes(*changes);
        fmt::print("{}\n", engine::import_image(ctx.store(), *o));
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(import, add_import);

}  // namespace husk::cli
