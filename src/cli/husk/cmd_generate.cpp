// husk generate systemd [--files] CONTAINER: a systemd unit that starts the container at
// boot and stops it at shutdown, as podman's `generate systemd` writes one
// (engine/restart.h). Printed, or written to ./container-NAME.service with --files.
#include <fmt/format.h>

#include "cli/husk/container_cmd.h"
#include "engine/lifecycle.h"
#include "engine/monitor.h"
#include "engine/restart.h"
#include "sys/error.h"
#include "sys/fileutil.h"

namespace husk::cli {
namespace {

struct GenerateFlags {
    std::string name;
    bool files = false;
};

void add_generate(CLI::App& app, Context& ctx, Commands& cmds) {
    auto f = std::make_shared<GenerateFlags>();
    auto* gen = app.add_subcommand("generate", "generate files for other tools");
    gen->require_subcommand(1);
    auto* sd = gen->add_subcommand("systemd", "a systemd unit for a container");
    sd->add_flag("-f,--files", f->files, "write ./container-NAME.service instead of printing");
    sd->add_option("container", f->name, "container name or id")->required();
    cmds.on(sd, [f, &ctx] {
        auto ec = engine_context(ctx);
        auto rec = engine::lookup(ec, f->name);
        std::string unit = engine::systemd_unit(ec, rec, engine::husk_exe());
        if (!f->files) {
            fmt::print("{}", unit);
            return 0;
        }
        std::string path = fmt::format("container-{}.service", rec.name);
        sys::write_file_atomic(path, unit);
        fmt::print("{}\n", path);
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(generate, add_generate);

}  // namespace husk::cli
