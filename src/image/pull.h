// `husk pull`: resolve a reference on its registry, pick the platform, and
// stream every missing layer network -> sha256 -> decompress -> extract, layers
// in parallel. Nothing is committed to the store until every layer and digest
// checks out; a failed pull leaves the store as it was.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "image/registry.h"
#include "image/store.h"
#include "image/unpack.h"
#include "oci/image/reference.h"
#include "oci/image/types.h"

namespace husk::image {

// Progress callbacks; layer_bytes is called from worker threads.
class PullProgress {
  public:
    virtual ~PullProgress() = default;
    // The manifest chosen, and its layers' digests in its order (layer i below is the i-th).
    virtual void resolved(const std::string& /*manifest_digest*/,
                          const std::vector<std::string>& /*layer_digests*/) {}
    virtual void layer_start(size_t /*i*/, const std::string& /*digest*/, int64_t /*size*/,
                             bool /*cached*/) {}
    virtual void layer_bytes(size_t /*i*/, int64_t /*n*/) {}
    virtual void layer_done(size_t /*i*/) {}
};

struct PullOptions {
    RegistryOptions registry;
    oci::image::Platform platform = oci::image::host_platform();
    // A build's FROM: when the store's image of the name is of another platform, the name
    // stays on it and the pulled one is recorded hidden, unnamed (image/platforms.h).
    bool keep_names = false;
    UnpackLimits limits;
    size_t parallel = 4;  // layers at a time
    PullProgress* progress = nullptr;
    // Set (from a SIGINT handler, say) to stop: staging is removed, partial downloads
    // are kept for the next pull to resume. Also give it to registry.interrupt.
    const std::atomic<bool>* interrupt = nullptr;
};

Image pull(Store& store, const oci::image::Reference& ref, const PullOptions& opts);

// The options a CLI builds from its flags: registries config (registries_config.h),
// credentials from <root>/auth.json and ~/.docker/config.json.
std::string auth_file_path(const std::string& root);

}  // namespace husk::image
