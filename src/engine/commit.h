// `husk commit CONTAINER [IMAGE]`, and the one way a new image is made from a directory
// of changes (a container's overlayfs upper dir): `husk build` commits each of its steps
// with commit_image too.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "engine/run.h"
#include "image/layer_diff.h"
#include "image/store.h"

namespace husk::engine {

// One step of an image's making, as its history records it.
struct Step {
    // The directory of changes that becomes the step's layer; nullopt: no layer (a step
    // that only changes the config, history's empty_layer).
    std::optional<std::string> upper;
    image::ChangeFilter filter;  // what of `upper` is not the step's change
    std::string created_by;
    std::string comment;
    std::string author;
};

// Where the new image goes.
struct CommitTarget {
    std::vector<std::string> names;  // full references; none: an unnamed image
    bool intermediate = false;       // unnamed, hidden from `husk images` (a build step)
    image::LayerWriteOptions layer;  // compression; mtimes clamped to SOURCE_DATE_EPOCH
};

// The config of an image built FROM scratch (this machine's os and architecture).
nlohmann::json scratch_config();

// A child of `config` (the parent's whole image config, edited by the caller): `step`'s
// layer (if any) written, its diff id and history appended, "created" set (to the epoch
// when given), then stored with its snapshots unpacked. `parent_layers` are the parent's
// layer descriptors (empty for scratch).
image::Image commit_image(image::Store& store,
                          const std::vector<oci::image::Descriptor>& parent_layers,
                          nlohmann::json config, const Step& step, const CommitTarget& target);

struct CommitOptions {
    std::string author;   // -a
    std::string message;  // -m
    bool pause = true;    // --pause (docker's default): frozen while its layer is written
    // -c changes, applied to the image config (build/changes.h parses them)
    std::function<void(nlohmann::json& config)> changes;
    image::LayerWriteOptions layer;
};

// The container `key`'s changes over its image as a new image named `name` (a reference,
// "" for none). Needs ctx.store.
image::Image commit_container(const EngineContext& ctx, const std::string& key,
                              const std::string& name, const CommitOptions& opts);

}  // namespace husk::engine
