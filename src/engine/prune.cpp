#include "engine/prune.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "engine/lifecycle.h"
#include "engine/volumes.h"
#include "image/platforms.h"
#include "image/store.h"
#include "sys/log.h"

namespace husk::engine {

uint64_t tree_bytes(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    uint64_t total = 0;
    auto st = fs::symlink_status(path, ec);
    if (ec || !fs::exists(st)) return 0;
    if (fs::is_regular_file(st)) return fs::file_size(path, ec);
    for (fs::recursive_directory_iterator
             it(path, fs::directory_options::skip_permission_denied, ec),
         end;
         !ec && it != end; it.increment(ec)) {
        auto s = it->symlink_status(ec);
        if (!ec && fs::is_regular_file(s)) total += it->file_size(ec);
        ec.clear();
    }
    return total;
}

uint64_t container_size_rw(const EngineContext& ctx, const std::string& id) {
    return tree_bytes(fmt::format("{}/rootfs/{}/upper", ctx.data_root, id));
}

PruneReport prune_containers(const EngineContext& ctx) {
    PruneReport r;
    for (auto& rec : list_containers(ctx)) {
        if (rec.status == ContainerStatus::running) continue;
        uint64_t bytes = container_size_rw(ctx, rec.id);
        try {
            remove_container(ctx, rec, false);
        } catch (const std::exception& e) {  // started meanwhile: not ours to remove
            log::warn("container prune: {}: {}", rec.id, e.what());
            continue;
        }
        r.deleted.push_back(rec.id);
        r.reclaimed += bytes;
    }
    return r;
}

PruneReport prune_images(const EngineContext& ctx, image::Store& store, bool all) {
    PruneReport r;
    std::set<std::string> used;
    for (auto& rec : list_containers(ctx)) used.insert(rec.image_id);
    std::vector<image::Image> images = store.images();
    // an image is kept with every platform of its index the store holds (their entries are
    // unnamed, or there are none): a container of any of them keeps them all
    std::set<std::string> held;
    for (auto& img : images) {
        std::vector<image::Image> platforms = image::held_platforms(store, img);
        bool kept = !all && !img.names.empty();
        for (auto& p : platforms)
            kept = kept || used.contains(p.id) || !store.rootfs_users(p.id).empty();
        if (kept)
            for (auto& p : platforms) held.insert(p.manifest_digest);
    }
    for (auto& img : images) {
        if (held.contains(img.manifest_digest)) continue;
        store.remove_records([&](const image::ImageRecord& rec) {
            if (rec.manifest.digest != img.manifest_digest) return false;
            if (!rec.name.empty()) r.untagged.push_back(rec.name);
            return true;
        });
        r.deleted.push_back(img.id);
    }
    r.reclaimed = store.prune().bytes;
    return r;
}

PruneReport prune_volumes(const EngineContext& ctx, bool all) {
    PruneReport r;
    VolumeStore store(ctx.data_root);
    Containers db(ctx.data_root);
    for (auto& v : store.list()) {
        if ((!v.anonymous && !all) || !store.users(v.name, db).empty()) continue;
        uint64_t bytes = tree_bytes(v.mountpoint);
        store.destroy(v.name);
        r.deleted.push_back(v.name);
        r.reclaimed += bytes;
    }
    return r;
}

}  // namespace husk::engine
