// husk images [--digests] [-q] [--format json]
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/husk/command.h"
#include "cli/husk/util.h"
#include "engine/system.h"
#include "image/store.h"
#include "oci/image/reference.h"
#include "sys/error.h"
#include "sys/fileutil.h"

namespace husk::cli {
namespace {

void add_images(CLI::App& app, Context& ctx, Commands& cmds) {
    struct Opts {
        bool digests = false;
        bool quiet = false;
        std::string format;
    };
    auto o = std::make_shared<Opts>();
    auto* sub = app.add_subcommand("images", "list images");
    sub->add_flag("--digests", o->digests, "show digests");
    sub->add_flag("-q,--quiet", o->quiet, "only image ids");
    sub->add_option("--format", o->format, "json")->check(CLI::IsMember({"json", "table"}));
    cmds.on(sub, [o, &ctx] {
        auto& store = ctx.store();
        auto imgs = store.images();
        if (o->format == "json") {
            nlohmann::json out = nlohmann::json::array();
            for (auto& img : imgs)
                out.push_back({{"Id", img.id},
                               {"Names", img.names},
                               {"Digest", img.manifest_digest},
                               {"RepoDigest", img.repo_digest},
                               {"Created", img.config.created},
                               {"Size", engine::image_size(store, img)}});
            fmt::print("{}\n", out.dump(2));
            return 0;
        }
        if (o->quiet) {
            for (auto& img : imgs) fmt::print("{}\n", short_id(img.id));
            return 0;
        }
        std::string header = fmt::format("{:<40} {:<12} ", "REPOSITORY", "TAG");
        if (o->digests) header += fmt::format("{:<72}", "DIGEST");
        header += fmt::format("{:<14}{:<24}{}", "IMAGE ID", "CREATED", "SIZE");
        fmt::print("{}\n", header);
        for (auto& img : imgs) {
            std::vector<std::string> names = img.names;
            if (names.empty()) names.emplace_back();
            for (auto& n : names) {
                std::string repo = "<none>", tag = "<none>";
                if (!n.empty()) {
                    auto ref = oci::image::parse_reference(n);
                    oci::image::Reference bare = ref;
                    bare.tag.clear();
                    bare.digest.clear();
                    repo = bare.familiar_name();
                    if (!ref.tag.empty()) tag = ref.tag;
                }
                std::string line = fmt::format("{:<40} {:<12} ", repo, tag);
                if (o->digests) line += fmt::format("{:<72}", img.repo_digest);
                line +=
                    fmt::format("{:<14}{:<24}{}", short_id(img.id), time_ago(img.config.created),
                                human_size(engine::image_size(store, img)));
                fmt::print("{}\n", line);
            }
        }
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(images, add_images);

}  // namespace husk::cli
