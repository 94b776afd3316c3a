// husk images [--digests] [-q] [--format json|table|TEMPLATE]
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/husk/command.h"
#include "cli/husk/util.h"
#include "cli/template/template.h"
#include "engine/system.h"
#include "image/store.h"
#include "oci/image/reference.h"
#include "sys/error.h"
#include "sys/fileutil.h"

namespace husk::cli {
namespace {

// REPOSITORY and TAG of each name of an image; <none> <none> for an unnamed one.
std::vector<std::pair<std::string, std::string>> repo_tags(const image::Image& img) {
    std::vector<std::pair<std::string, std::string>> out;
    for (auto& n : img.names) {
        auto ref = oci::image::parse_reference(n);
        oci::image::Reference bare = ref;
        bare.tag.clear();
        bare.digest.clear();
        out.emplace_back(bare.familiar_name(), ref.tag.empty() ? "<none>" : ref.tag);
    }
    if (out.empty()) out.emplace_back("<none>", "<none>");
    return out;
}

void add_images(CLI::App& app, Context& ctx, Commands& cmds) {
    struct Opts {
        bool digests = false;
        bool quiet = false;
        bool all = false;
        std::string format;
    };
    auto o = std::make_shared<Opts>();
    auto* sub = app.add_subcommand("images", "list images");
    sub->add_flag("--digests", o->digests, "show digests");
    sub->add_flag("-q,--quiet", o->quiet, "only image ids");
    sub->add_flag("-a,--all", o->all, "show intermediate images (build steps) too");
    sub->add_option("--format", o->format, "json, table, or a template: {{.Repository}}:{{.Tag}}");
    cmds.on(sub, [o, &ctx] {
        auto& store = ctx.store();
        auto imgs = store.images();
        if (!o->all) std::erase_if(imgs, [](const image::Image& i) { return i.intermediate; });
        if (!o->format.empty() && !o->quiet) {
            std::vector<nlohmann::json> rows;
            for (auto& img : imgs) {
                uint64_t size = engine::image_size(store, img);
                for (auto& [repo, tag] : repo_tags(img))
                    rows.push_back(
                        {{"ID", short_id(img.id)},
                         {"Repository", repo},
                         {"Tag", tag},
                         {"Digest", img.repo_digest.empty() ? "<none>" : img.repo_digest},
                         {"CreatedAt", img.config.created},
                         {"CreatedSince", time_ago(img.config.created)},
                         {"Size", human_size(size)},
                         {"VirtualSize", human_size(size)},
                         {"SharedSize", "N/A"},
                         {"UniqueSize", "N/A"},
                         {"Containers", "N/A"}});
            }
            static const nlohmann::json headers = {{"ID", "IMAGE ID"},
                                                   {"Repository", "REPOSITORY"},
                                                   {"Tag", "TAG"},
                                                   {"Digest", "DIGEST"},
                                                   {"CreatedAt", "CREATED AT"},
                                                   {"CreatedSince", "CREATED"},
                                                   {"Size", "SIZE"},
                                                   {"VirtualSize", "SIZE"},
                                                   {"SharedSize", "SHARED SIZE"},
                                                   {"UniqueSize", "UNIQUE SIZE"},
                                                   {"Containers", "CONTAINERS"}};
            fmt::print("{}", tmpl::format_rows(o->format, rows, headers,
                                               "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t"
                                               "{{.CreatedSince}}\t{{.Size}}"));
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
            for (auto& [repo, tag] : repo_tags(img)) {
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
