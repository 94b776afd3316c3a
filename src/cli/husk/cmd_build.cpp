// husk build [-t NAME[:TAG]]... [-f Dockerfile] [--build-arg K=V]... [--target STAGE]
//            [--no-cache] [--pull] [--label K=V]... [-q] [--network MODE]
//            [--platform OS/ARCH[/VARIANT][,...]] [--progress auto|plain|tty] CONTEXT
#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

#include "build/builder.h"
#include "cli/husk/container_cmd.h"
#include "cli/husk/util.h"
#include "engine/config_file.h"
#include "image/auth.h"
#include "image/pull.h"
#include "image/store.h"
#include "oci/image/reference.h"
#include "sys/error.h"

namespace husk::cli {
namespace {

std::pair<std::string, std::string> key_value(const std::string& flag, const std::string& kv) {
    size_t eq = kv.find('=');
    if (eq == 0) throw Error(fmt::format("{} \"{}\": expected KEY=VALUE", flag, kv));
    if (eq == std::string::npos) {  // docker: --build-arg NAME takes the value from the env
        const char* v = std::getenv(kv.c_str());
        return {kv, v != nullptr ? v : ""};
    }
    return {kv.substr(0, eq), kv.substr(eq + 1)};
}

void add_build(CLI::App& app, Context& ctx, Commands& cmds) {
    struct Opts {
        std::string context, file, target, network, compression = "gzip", progress = "auto",
                                                    platform;
        std::vector<std::string> tags, build_args, labels;
        bool no_cache = false, pull = false, quiet = false;
        RegistryFlags reg;
    };
    auto o = std::make_shared<Opts>();
    auto* sub = app.add_subcommand("build", "build an image from a Dockerfile");
    sub->add_option("context", o->context, "the build context directory")->required();
    sub->add_option("-t,--tag", o->tags, "name (and optionally a tag) NAME[:TAG]")
        ->allow_extra_args(false);
    sub->add_option("-f,--file", o->file, "the Dockerfile (default CONTEXT/Dockerfile)");
    sub->add_option("--build-arg", o->build_args, "set a build-time variable (KEY=VALUE)")
        ->allow_extra_args(false);
    sub->add_option("--target", o->target, "the build stage to build");
    sub->add_option("--label", o->labels, "set a label on the image (KEY=VALUE)")
        ->allow_extra_args(false);
    sub->add_option("--network", o->network,
                    "network mode of RUN steps (bridge, host, none; default: bridge, a user's: "
                    "pasta, or husk.conf's default_rootless_network_cmd)");
    sub->add_option("--platform", o->platform,
                    "the image's platform (os/arch[/variant]); several, comma-separated: an "
                    "index over one image each; another machine's RUN through binfmt_misc");
    sub->add_option("--compression", o->compression, "layer compression (gzip, zstd, none)");
    sub->add_option("--progress", o->progress,
                    "auto (tty on a terminal), plain (a line at a time) or tty (redrawn in place)")
        ->capture_default_str();
    sub->add_flag("--no-cache", o->no_cache, "do not use the build cache");
    sub->add_flag("--pull", o->pull, "always pull the FROM images");
    sub->add_flag("-q,--quiet", o->quiet, "print only the image id");
    o->reg.add(sub);
    cmds.on(sub, [o, &ctx] {
        build::BuildOptions bo;
        bo.context = o->context;
        bo.dockerfile = o->file;
        bo.tags = o->tags;
        bo.target = o->target;
        bo.no_cache = o->no_cache;
        bo.pull = o->pull;
        bo.quiet = o->quiet;
        if (o->progress == "tty")
            bo.tty_progress = true;
        else if (o->progress == "auto")
            bo.tty_progress = ::isatty(STDOUT_FILENO) == 1;
        else if (o->progress != "plain")
            throw Error(fmt::format("--progress={}: expected auto, plain or tty", o->progress));
        for (auto& a : o->build_args) bo.build_args.insert(key_value("--build-arg", a));
        for (auto& l : o->labels) bo.labels.insert(key_value("--label", l));
        // without --network a user's RUN steps get husk.conf's network, as `husk run` does
        bo.network = o->network.empty() ? engine::default_network_mode()
                                        : engine::parse_network_mode(o->network);
        if (!o->platform.empty()) {
            size_t start = 0;
            while (true) {
                size_t comma = o->platform.find(',', start);
                std::string one = o->platform.substr(start, comma - start);
                auto p = with_context(fmt::format("--platform={}", o->platform),
                                      [&] { return oci::image::parse_platform(one); });
                for (auto& seen : bo.platforms)
                    if (oci::image::platform_matches(seen, p) &&
                        oci::image::platform_matches(p, seen))
                        throw Error(
                            fmt::format("--platform={}: {} given twice", o->platform, p.str()));
                bo.platforms.push_back(p);
                if (comma == std::string::npos) break;
                start = comma + 1;
            }
        }
        if (o->compression == "gzip")
            bo.layer.compression = oci::image::Compression::gzip;
        else if (o->compression == "zstd")
            bo.layer.compression = oci::image::Compression::zstd;
        else if (o->compression == "none")
            bo.layer.compression = oci::image::Compression::none;
        else
            throw Error(
                fmt::format("--compression={}: expected gzip, zstd or none", o->compression));
        bo.layer.epoch = image::source_date_epoch();
        engine::EngineContext ec = engine_context(ctx);
        ec.store = &ctx.store();
        bo.pull_platform = [&ctx, o](const std::string& ref, const oci::image::Platform& p) {
            image::CredentialStore creds(image::auth_file_path(ctx.root));
            image::PullOptions po;
            po.registry = o->reg.options(ctx, creds);
            po.platform = p;
            po.keep_names = true;  // a FROM of another platform moves no tag
            return image::pull(ctx.store(), oci::image::parse_reference(ref), po);
        };
        ec.pull = [&bo](const std::string& ref) {
            bo.pull_platform(ref, oci::image::host_platform());
        };
        build::build_image(ec, bo);
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(build, add_build);

}  // namespace husk::cli
