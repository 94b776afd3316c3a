#include "build/cache.h"

#include <fmt/format.h>

#include "image/digest.h"
#include "oci/image/types.h"
#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/log.h"

namespace husk::build {

std::string cache_key(const std::string& parent_id, const std::string& instruction,
                      const std::map<std::string, std::string>& args, const std::string& content) {
    std::string text = fmt::format("parent {}\ninstruction {}\n", parent_id, instruction);
    for (auto& [k, v] : args) text += fmt::format("arg {}={}\n", k, v);
    text += fmt::format("content {}\n", content);
    return image::sha256_digest(text);
}

BuildCache::BuildCache(image::Store& store) : store_(store), dir_(store.root() + "/build-cache") {
    sys::mkdir_all(dir_, 0700);
}

std::optional<image::Image> BuildCache::find(const std::string& key) const {
    auto text = sys::read_file_if_exists(fmt::format("{}/{}", dir_, key.substr(7)));
    if (!text) return std::nullopt;
    std::string digest = *text;
    while (!digest.empty() && digest.back() == '\n') digest.pop_back();
    try {
        image::Image img = store_.resolve(digest);
        if (img.manifest_digest != digest) return std::nullopt;
        store_.ensure_snapshots(img);
        return img;
    } catch (const std::exception& e) {
        log::debug("build cache {}: {}", key, e.what());
        return std::nullopt;
    }
}

void BuildCache::put(const std::string& key, const std::string& manifest_digest) const {
    sys::write_file_atomic(fmt::format("{}/{}", dir_, key.substr(7)), manifest_digest + "\n", 0644,
                           false);
}

}  // namespace husk::build
