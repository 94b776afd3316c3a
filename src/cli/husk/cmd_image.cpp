// husk image inspect|mount|unmount|prune [-a] [-f]
// (husk image ls|rm|pull|... are the top-level commands: cmd_container.cpp)
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/husk/command.h"
#include "cli/husk/container_cmd.h"
#include "cli/husk/prune_output.h"
#include "cli/husk/util.h"
#include "cli/template/template.h"
#include "engine/image_ops.h"
#include "image/store.h"
#include "sys/error.h"

namespace husk::cli {
namespace {

using json = nlohmann::json;

void add_image(CLI::App& app, Context& ctx, Commands& cmds) {
    auto* image = app.add_subcommand("image", "manage images");
    image->require_subcommand(1);

    auto inspect_args = std::make_shared<std::vector<std::string>>();
    auto inspect_format = std::make_shared<std::string>();
    auto* ins = image->add_subcommand("inspect", "configuration, layers and digests as JSON");
    ins->add_option(
        "-f,--format", *inspect_format,
        "a template: {{.Architecture}}, {{.Config.Cmd}}, {{index .Config.Labels \"k\"}}");
    ins->add_option("image", *inspect_args)->required();
    cmds.on(ins, [inspect_args, inspect_format, &ctx] {
        json out = json::array();
        for (auto& a : *inspect_args)
            out.push_back(engine::image_inspect(ctx.store(), ctx.store().resolve(a)));
        if (inspect_format->empty()) {
            fmt::print("{}\n", out.dump(2));
        } else {
            for (auto& o : out) fmt::print("{}", tmpl::format_object(*inspect_format, o));
        }
        return 0;
    });

    auto mount_arg = std::make_shared<std::string>();
    auto* mnt = image->add_subcommand("mount",
                                      "mount an image's root filesystem read-only; print its path");
    mnt->add_option("image", *mount_arg)->required();
    cmds.on(mnt, [mount_arg, &ctx] {
        fmt::print("{}\n", ctx.store().mount_image(*mount_arg));
        return 0;
    });

    auto umount_arg = std::make_shared<std::string>();
    auto* umnt = image->add_subcommand("unmount", "unmount an image mounted with `image mount`");
    umnt->alias("umount");
    umnt->add_option("image", *umount_arg)->required();
    cmds.on(umnt, [umount_arg, &ctx] {
        if (!ctx.store().unmount_image(*umount_arg))
            throw Error(fmt::format("image {} is not mounted", *umount_arg));
        return 0;
    });

    struct PruneFlags {
        bool all = false, force = false;
    };
    auto pf = std::make_shared<PruneFlags>();
    auto* prune = image->add_subcommand(
        "prune", "remove unnamed images (-a: every image no container uses) and unused blobs");
    prune->add_flag("-a,--all", pf->all, "every image no container was made from");
    prune->add_flag("-f,--force", pf->force, "do not ask");
    cmds.on(prune, [pf, &ctx] {
        if (!confirmed(pf->all ? "WARNING! This will remove all images without at least one "
                                 "container associated to them."
                               : "WARNING! This will remove all dangling images.",
                       pf->force))
            return 0;
        print_prune("Images", engine::prune_images(engine_context(ctx), ctx.store(), pf->all),
                    true);
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(image, add_image);

}  // namespace husk::cli
