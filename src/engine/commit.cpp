#include "engine/commit.h"

#include <unistd.h>

#include <ctime>
#include <exception>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "engine/diff.h"
#include "engine/inspect.h"
#include "engine/lifecycle.h"
#include "engine/rootless.h"
#include "oci/image/reference.h"
#include "runtime/state.h"
#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/log.h"
#include "sys/scope_guard.h"

namespace husk::engine {
namespace {

using json = nlohmann::json;
namespace oi = oci::image;

std::string created_time(const std::optional<int64_t>& epoch) {
    if (!epoch) return runtime::now_rfc3339();
    time_t t = static_cast<time_t>(*epoch);
    struct tm tm {};
    ::gmtime_r(&t, &tm);
    std::array<char, 32> buf{};
    size_t n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return {buf.data(), n};
}

// docker commit's base: the container's config (what run/create changed over the image),
// then --change over it.
void apply_container_config(const EngineContext& ctx, const ContainerRecord& rec, json& image) {
    json& c = image["config"];
    if (!c.is_object()) c = json::object();
    auto set_list = [&](const char* key, const std::vector<std::string>& v) {
        if (v.empty())
            c.erase(key);
        else
            c[key] = v;
    };
    if (rec.config) {
        set_list("Entrypoint", rec.config->entrypoint);
        set_list("Cmd", rec.config->cmd);
        set_list("Env", rec.config->env);
        c["User"] = rec.config->user;
        c["WorkingDir"] = rec.config->working_dir;
    }
    if (!rec.exposed_ports.empty()) {
        json ports = json::object();
        for (auto& p : rec.exposed_ports) ports[p] = json::object();
        c["ExposedPorts"] = ports;
    }
    auto labels = container_labels(ctx, rec);
    if (!labels.empty()) c["Labels"] = labels;
}

// A user's container root (its filter maps the ids of the user namespace that wrote it)
// may hold files of the container's other ids the user may not read: read where needed
// from that namespace's point of view (as_user_or_container_root), where stat gives the
// container's owners as they are.
image::LayerBlob write_step_layer(const std::string& upper, const std::string& out,
                                  const image::LayerWriteOptions& opts,
                                  const image::ChangeFilter& filter) {
    image::ChangeFilter seen = filter;  // in the namespace: the container's ids already
    seen.uid_maps.clear();
    seen.gid_maps.clear();
    json j = json::parse(
        as_user_or_container_root(filter.uid_maps, filter.gid_maps, [&](bool in_namespace) {
            if (in_namespace) ::unlink(out.c_str());  // what the refused try began
            image::LayerBlob b = image::write_layer(upper, out, opts, in_namespace ? seen : filter);
            return json{{"media_type", b.media_type},
                        {"digest", b.digest},
                        {"diff_id", b.diff_id},
                        {"size", b.size}}
                .dump();
        }));
    image::LayerBlob b;
    b.media_type = j.at("media_type").get<std::string>();
    b.digest = j.at("digest").get<std::string>();
    b.diff_id = j.at("diff_id").get<std::string>();
    b.size = j.at("size").get<int64_t>();
    b.path = out;
    return b;
}

}  // namespace

json scratch_config() {
    oi::Platform p = oi::host_platform();
    json c = {{"architecture", p.architecture},
              {"os", p.os},
              {"config", json::object()},
              {"rootfs", {{"type", "layers"}, {"diff_ids", json::array()}}}};
    if (!p.variant.empty()) c["variant"] = p.variant;
    return c;
}

image::Image commit_image(image::Store& store, const std::vector<oi::Descriptor>& parent_layers,
                          json config, const Step& step, const CommitTarget& target) {
    auto lock = store.lock_shared();  // no prune between writing the blobs and naming them
    std::vector<oi::Descriptor> layers = parent_layers;
    if (!config.contains("rootfs") || !config["rootfs"].is_object())
        config["rootfs"] = {{"type", "layers"}, {"diff_ids", json::array()}};
    json& diff_ids = config["rootfs"]["diff_ids"];
    if (!diff_ids.is_array()) diff_ids = json::array();
    std::string created = created_time(target.layer.epoch);
    if (step.upper) {
        std::string tmp = fmt::format("{}/{}", store.tmp_dir(), sys::unique_name("layer-"));
        sys::ScopeGuard gone([&]() noexcept { ::unlink(tmp.c_str()); });
        image::LayerBlob blob = write_step_layer(*step.upper, tmp, target.layer, step.filter);
        store.commit_blob(tmp, blob.digest);
        layers.push_back({blob.media_type, blob.digest, blob.size, {}, {}, {}});
        diff_ids.push_back(blob.diff_id);
    }
    config["created"] = created;
    if (!step.author.empty()) config["author"] = step.author;
    json h = {{"created", created}, {"created_by", step.created_by}};
    if (!step.comment.empty()) h["comment"] = step.comment;
    if (!step.author.empty()) h["author"] = step.author;
    if (!step.upper) h["empty_layer"] = true;
    if (!config.contains("history") || !config["history"].is_array())
        config["history"] = json::array();
    config["history"].push_back(h);
    image::Image img = store.add_image(config.dump(), layers, target.names, target.intermediate);
    store.ensure_snapshots(img);
    return img;
}

image::Image commit_container(const EngineContext& ctx, const std::string& key,
                              const std::string& name, const CommitOptions& opts) {
    ContainerRecord rec = lookup(ctx, key);
    return with_context(fmt::format("commit container {}", rec.name), [&] {
        std::vector<std::string> names;
        if (!name.empty()) names.push_back(oi::parse_reference(name).str());
        if (rec.image_id.empty())
            throw Error("it runs on its own --rootfs: there is no image to commit onto");
        RootLayers root = root_layers(*ctx.store, rec);
        image::Image parent = ctx.store->resolve(rec.image_id);
        json config = json::parse(parent.config_json);
        apply_container_config(ctx, rec, config);
        if (opts.changes) {
            opts.changes(config);
        }
        bool froze = false;
        if (opts.pause && rec.status == ContainerStatus::running && !rec.paused) {
            pause_container(ctx, rec);
            froze = true;
        }
        sys::ScopeGuard thaw([&]() noexcept {
            if (!froze) return;
            try {
                unpause_container(ctx, lookup(ctx, rec.id));
            } catch (const std::exception& e) {
                log::warn("unpause {}: {}", rec.name, e.what());
            }
        });
        Step step{root.upper, root.filter, fmt::format("{}", fmt::join(rec.command, " ")),
                  opts.message, opts.author};
        return commit_image(*ctx.store, parent.manifest.layers, std::move(config), step,
                            {names, false, opts.layer});
    });
}

}  // namespace husk::engine
