// OCI archives: a tar of an OCI image layout (oci-layout, index.json, blobs/),
// what `skopeo copy oci-archive:` and `podman save --format oci-archive` use,
// so images move between machines without a registry; docker-archives are read too.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "image/store.h"

namespace husk::image {

// Writes the images named by `refs` to `path` ("-" = stdout).
void save_oci_archive(const Store& store, const std::vector<std::string>& refs,
                      const std::string& path);

// Reads an OCI archive, or a docker-archive (`docker save`: manifest.json, configs and
// layer tars), from `path` ("-" = stdin) into the store, unpacks its layers and names
// the images after their org.opencontainers.image.ref.name annotations or RepoTags (or
// `tag` when given). Returns the names given (the image id of an unnamed image). On
// failure the store is left as it was.
std::vector<std::string> load_archive(Store& store, const std::string& path,
                                      const std::optional<std::string>& tag = std::nullopt);

}  // namespace husk::image
