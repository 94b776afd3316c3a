// The build cache: <data root>/build-cache/<key> holds the manifest digest of the image a
// step made; a key is the sha256 of the parent image id, the instruction, the ARG values
// in effect and the digest of what COPY/ADD copies. An entry whose image is gone (rmi,
// prune) is a miss.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "image/store.h"

namespace husk::build {

std::string cache_key(const std::string& parent_id, const std::string& instruction,
                      const std::map<std::string, std::string>& args, const std::string& content);

class BuildCache {
  public:
    explicit BuildCache(image::Store& store);
    std::optional<image::Image> find(const std::string& key) const;
    void put(const std::string& key, const std::string& manifest_digest) const;

  private:
    image::Store& store_;
    std::string dir_;
};

}  // namespace husk::build
