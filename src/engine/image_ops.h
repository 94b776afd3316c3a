// Image commands that work on the store alone: tag, history, import.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "image/store.h"

namespace husk::engine {

// husk tag SOURCE TARGET: TARGET (docker's reference rules; a digest is refused) names
// the image SOURCE names. An image that loses its last name stays, unnamed (<none>).
// Returns the target's full reference.
std::string tag_image(image::Store& store, std::string_view source, std::string_view target);

// One row of `husk history`, newest first as docker shows them.
struct HistoryEntry {
    std::string id;       // the image id on the newest row, "<missing>" below it (docker's)
    std::string created;  // RFC 3339, may be empty
    std::string created_by;
    std::string comment;
    uint64_t size = 0;  // bytes of the row's layer (0 for an empty_layer row)
};
// From the config's history (empty_layer rows have no layer) and the layers' sizes (the
// unpacked snapshot's, else the blob's); an image without history gets one row per layer.
std::vector<HistoryEntry> image_history(const image::Store& store, std::string_view image);

// husk image inspect's document: docker's fields (Id, RepoTags, RepoDigests, Created,
// Author, Architecture, Os, Config: the config's own "config" with Cmd, Env, Labels...,
// RootFS, History, Size), then husk's (the manifest, its index, layers, chain ids, the
// snapshot directories and the whole config blob as ImageConfig).
nlohmann::json image_inspect(image::Store& store, const image::Image& img);

// Bytes of layer `i` of `img`: its unpacked size when the snapshot records one, else the
// size of its (compressed) blob.
uint64_t layer_size(const image::Store& store, const image::Image& img, size_t i);

struct ImportOptions {
    std::string source;  // a tar file (plain or compressed), or "-" for stdin
    std::string name;    // the image's name, or "" for an unnamed image
    // -c changes, applied to the image config (build/changes.h parses them)
    std::function<void(nlohmann::json& image_config)> changes;
    std::string message;  // the history comment (default "Imported from SOURCE")
    std::string created;  // RFC 3339; default now
};
// husk import: the tar becomes the one (gzip) layer of a new image for this machine's
// platform. Returns the image id. A bad tar or change leaves nothing behind.
std::string import_image(image::Store& store, const ImportOptions& opts);

}  // namespace husk::engine
