// husk commit [-a AUTHOR] [-m MESSAGE] [-c CHANGE]... [--pause=false] CONTAINER [IMAGE]
#include <fmt/format.h>

#include "build/changes.h"
#include "cli/husk/container_cmd.h"
#include "cli/husk/util.h"
#include "engine/commit.h"
#include "image/store.h"

namespace husk::cli {
namespace {

void add_commit(CLI::App& app, Context& ctx, Commands& cmds) {
    struct Opts {
        std::string container, image, author, message;
        std::vector<std::string> changes;
        bool pause = true;
    };
    auto o = std::make_shared<Opts>();
    auto* sub = app.add_subcommand("commit", "create a new image from a container's changes");
    sub->add_option("container", o->container, "container")->required();
    sub->add_option("image", o->image, "name of the new image (REPOSITORY[:TAG])");
    sub->add_option("-a,--author", o->author, "author");
    sub->add_option("-m,--message", o->message, "commit message");
    sub->add_option("-c,--change", o->changes, "apply a Dockerfile instruction to the image")
        ->allow_extra_args(false);
    sub->add_flag("-p,--pause,!--no-pause", o->pause,
                  "pause the container while committing (default true)")
        ->default_val(true);
    cmds.on(sub, [o, &ctx] {
        auto ec = engine_context(ctx);
        ec.store = &ctx.store();
        engine::CommitOptions co;
        co.author = o->author;
        co.message = o->message;
        co.pause = o->pause;
        if (!o->changes.empty()) co.changes = build::commit_changes(o->changes);
        co.layer.epoch = image::source_date_epoch();
        image::Image img = engine::commit_container(ec, o->container, o->image, co);
        fmt::print("{}\n", img.id);
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(commit, add_commit);

}  // namespace husk::cli
