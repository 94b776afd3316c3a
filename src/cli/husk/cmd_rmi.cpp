// husk rmi [-f] IMAGE...: untag, and delete what no image uses any more.
#include <fmt/format.h>

#include "cli/husk/command.h"
#include "cli/husk/util.h"
#include "engine/events.h"
#include "image/store.h"
#include "oci/image/reference.h"
#include "sys/error.h"

namespace husk::cli {
namespace {

void add_rmi(CLI::App& app, Context& ctx, Commands& cmds) {
    struct Opts {
        std::vector<std::string> images;
        bool force = false;
    };
    auto o = std::make_shared<Opts>();
    auto* sub = app.add_subcommand("rmi", "remove images");
    sub->add_option("image", o->images, "image names or ids")->required();
    sub->add_flag("-f,--force", o->force,
                  "remove even when containers use it or it has several names");
    cmds.on(sub, [o, &ctx] {
        auto& store = ctx.store();
        for (auto& arg : o->images) {
            image::Image img = store.resolve(arg);
            auto users = store.rootfs_users(img.id);
            if (!users.empty() && !o->force)
                throw Error(
                    fmt::format("image {} is in use by container {} (use -f to remove anyway)", arg,
                                users.front()));
            std::string name;
            try {
                name = oci::image::parse_reference(arg).str();
            } catch (const Error&) {
            }
            bool by_name = !name.empty() &&
                           std::find(img.names.begin(), img.names.end(), name) != img.names.end();
            if (!by_name && img.names.size() > 1 && !o->force)
                throw Error(fmt::format("image {} has {} names; remove them by name or use -f", arg,
                                        img.names.size()));
            store.remove_records([&](const image::ImageRecord& r) {
                if (r.manifest.digest != img.manifest_digest) return false;
                if (by_name && r.name != name) return false;
                if (!r.name.empty()) fmt::print("Untagged: {}\n", r.name);
                if (!r.name.empty()) engine::emit_image_event(ctx.root, "untag", r.name);
                return true;
            });
            bool still = false;
            for (auto& r : store.records()) still |= r.manifest.digest == img.manifest_digest;
            if (!still) {
                fmt::print("Deleted: {}\n", img.id);
                engine::emit_image_event(ctx.root, "delete", img.id);
            }
        }
        store.prune();
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(rmi, add_rmi);

}  // namespace husk::cli
