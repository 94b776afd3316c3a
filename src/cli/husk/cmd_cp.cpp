// husk cp [-a] [-L] CONTAINER:SRC_PATH DEST_PATH|-
// husk cp [-a] [-L] SRC_PATH|- CONTAINER:DEST_PATH
// Files between a container (running or stopped) and the host, by docker's rules
// (engine/copy.h); "-" is a tar stream on stdin or stdout.
#include <unistd.h>

#include "cli/husk/container_cmd.h"
#include "engine/copy.h"

namespace husk::cli {
namespace {

struct CpFlags {
    engine::CopyOptions o;
    std::string src, dst;
};

void add_cp(CLI::App& app, Context& ctx, Commands& cmds) {
    auto f = std::make_shared<CpFlags>();
    auto* sub = app.add_subcommand("cp", "copy files between a container and the host");
    sub->add_flag("-a,--archive", f->o.archive, "keep the source's owners (uid:gid)");
    sub->add_flag("-L,--follow-link", f->o.follow_link, "copy what a symlink SRC_PATH points at");
    sub->add_option("src", f->src, "CONTAINER:SRC_PATH, a host path, or - (a tar stream)")
        ->required();
    sub->add_option("dst", f->dst, "CONTAINER:DEST_PATH, a host path, or - (a tar stream)")
        ->required();
    cmds.on(sub, [f, &ctx] {
        engine::copy(engine_context(ctx), f->src, f->dst, f->o, STDIN_FILENO, STDOUT_FILENO);
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(cp, add_cp);

}  // namespace husk::cli
