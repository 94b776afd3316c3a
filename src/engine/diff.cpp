#include "engine/diff.h"

#include <unistd.h>

#include <exception>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/lifecycle.h"
#include "engine/rootless.h"
#include "image/store.h"
#include "sys/error.h"
#include "sys/fileutil.h"

namespace husk::engine {

const std::vector<std::string>& mount_stubs() {
    static const std::vector<std::string> stubs = {"etc/hostname", "etc/hosts", "etc/resolv.conf",
                                                   "proc",         "sys",       "dev"};
    return stubs;
}

namespace {

// `uids`/`gids`: the maps of the user namespace that wrote a rootless root (a container's
// record's, a user's build step's); null for a root no user namespace wrote.
RootLayers layers_of(const image::Store& store, const std::string& root_id,
                     const std::vector<oci::IdMapping>* uids,
                     const std::vector<oci::IdMapping>* gids) {
    std::string dir = fmt::format("{}/rootfs/{}", store.root(), root_id);
    if (!sys::exists_nofollow(dir))
        throw Error(fmt::format("container {} has no root filesystem", root_id));
    std::string mode = sys::read_file(dir + "/mode");
    while (!mode.empty() && mode.back() == '\n') mode.pop_back();
    bool userns = mode == "overlay-userns" || mode == "fuse-overlayfs-userns";
    if (mode != "overlay" && mode != "overlay-idmapped" && !userns)
        throw Error(fmt::format(
            "container {}: its root filesystem is a copy ({}), not overlayfs: its changes are "
            "not kept apart from the image",
            root_id, mode));
    RootLayers out;
    out.upper = dir + "/upper";
    auto chains = nlohmann::json::parse(sys::read_file(dir + "/layers.json"));
    for (auto it = chains.rbegin(); it != chains.rend(); ++it)
        out.filter.lowers.push_back(store.snapshot_dir(it->get<std::string>()) + "/fs");
    out.filter.stubs = mount_stubs();
    if (userns) {  // written in the container's namespace: its maps
        if (uids == nullptr || gids == nullptr)
            throw Error(
                fmt::format("root {}: written in a user namespace no record names", root_id));
        out.filter.uid_maps = *uids;
        out.filter.gid_maps = *gids;
    }
    return out;
}

}  // namespace

RootLayers root_layers(const image::Store& store, const std::string& root_id) {
    return layers_of(store, root_id, nullptr, nullptr);
}

RootLayers root_layers(const image::Store& store, const std::string& root_id,
                       const std::vector<oci::IdMapping>& uids,
                       const std::vector<oci::IdMapping>& gids) {
    return layers_of(store, root_id, &uids, &gids);
}

RootLayers root_layers(const image::Store& store, const ContainerRecord& rec) {
    return layers_of(store, rec.id, &rec.uid_maps, &rec.gid_maps);
}

std::vector<image::Change> container_changes(const EngineContext& ctx, const std::string& key) {
    ContainerRecord rec = lookup(ctx, key);
    if (rec.image_id.empty())
        throw Error(
            fmt::format("container {} runs on its own --rootfs: there is no image to "
                        "compare with",
                        rec.name));
    RootLayers r = root_layers(*ctx.store, rec);
    // a user's container: read where needed as the container's root (rootless.h)
    std::string answer = as_user_or_container_root(r.filter.uid_maps, r.filter.gid_maps, [&](bool) {
        nlohmann::json out = nlohmann::json::array();
        for (auto& c : image::list_changes(r.upper, r.filter))
            out.push_back({static_cast<int>(c.kind), c.path});
        return out.dump();
    });
    std::vector<image::Change> out;
    for (auto& c : nlohmann::json::parse(answer))
        out.push_back({static_cast<image::ChangeKind>(c[0].get<int>()), c[1].get<std::string>()});
    return out;
}

}  // namespace husk::engine
