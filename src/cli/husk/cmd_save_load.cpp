// husk save [-o FILE] IMAGE... / husk load [-i FILE] [--tag NAME]: OCI archives.
#include <unistd.h>

#include <fmt/format.h>

#include "cli/husk/command.h"
#include "image/oci_archive.h"
#include "image/store.h"
#include "sys/error.h"

namespace husk::cli {
namespace {

void add_save(CLI::App& app, Context& ctx, Commands& cmds) {
    struct Opts {
        std::vector<std::string> images;
        std::string output;
    };
    auto o = std::make_shared<Opts>();
    auto* sub = app.add_subcommand("save", "write images to an OCI archive (tar)");
    sub->add_option("image", o->images)->required();
    sub->add_option("-o,--output", o->output, "file (default: stdout, when not a terminal)");
    cmds.on(sub, [o, &ctx] {
        std::string out = o->output.empty() ? "-" : o->output;
        if (out == "-" && ::isatty(STDOUT_FILENO))
            throw Error("refusing to write an archive to a terminal: use -o FILE");
        image::save_oci_archive(ctx.store(), o->images, out);
        return 0;
    });
}

void add_load(CLI::App& app, Context& ctx, Commands& cmds) {
    struct Opts {
        std::string input;
        std::string tag;
        bool quiet = false;
    };
    auto o = std::make_shared<Opts>();
    auto* sub =
        app.add_subcommand("load", "read images from an OCI archive or a docker-archive (tar)");
    sub->add_option("-i,--input", o->input, "file (default: stdin)");
    sub->add_option("--tag", o->tag, "name the image (when the archive holds one)");
    sub->add_flag("-q,--quiet", o->quiet);
    cmds.on(sub, [o, &ctx] {
        std::optional<std::string> tag;
        if (!o->tag.empty()) tag = o->tag;
        auto names = image::load_archive(ctx.store(), o->input.empty() ? "-" : o->input, tag);
        for (auto& n : names) fmt::print("{}{}\n", o->quiet ? "" : "Loaded image: ", n);
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(save, add_save);
HUSK_COMMAND(load, add_load);

}  // namespace husk::cli
