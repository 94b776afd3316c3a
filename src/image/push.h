// `husk push`: the upload half of the distribution API. Every blob the manifest names
// (layers and the config, a few at a time as docker and skopeo upload them) is checked
// with HEAD and skipped when the registry has it, mounted from another repository of the
// same registry when the store knows one that holds it, or uploaded (POST, then one PUT,
// or PATCH chunks and a closing PUT); the manifest goes last, byte for byte as stored, so
// its digest does not change and a registry never names a blob it does not have.
//
// An image pulled from a multi-platform index is pushed as that index: the platform the
// store holds as above, each other platform's manifest copied by digest from a repository
// the image was pulled from (its blobs mounted when on the same registry, else streamed
// through), or left when the registry has it already; the index last. Once it is up,
// the name's entry in the store records the pushed digest as its repo digest (docker's
// RepoDigests); nothing else in the store changes.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "image/registry.h"
#include "image/store.h"

namespace husk::image {

enum class BlobOutcome { exists, mounted, pushed };

// Progress callbacks, one at a time (from the uploading threads, under a lock).
class PushProgress {
  public:
    virtual ~PushProgress() = default;
    // The image is resolved and the push begins: `repository` is "host:5000/app".
    virtual void started(const std::string& /*repository*/) {}
    // `layer` is false for the config blob.
    virtual void blob_start(const std::string& /*digest*/, int64_t /*size*/, bool /*layer*/) {}
    virtual void blob_bytes(const std::string& /*digest*/, int64_t /*sent*/) {}
    // `from` names the repository a mounted blob came from.
    virtual void blob_done(const std::string& /*digest*/, bool /*layer*/, BlobOutcome /*how*/,
                           const std::string& /*from*/) {}
    // A manifest of an index is in the registry (pushed, copied from `from`, or there
    // already: `how`), `platform` as "linux/arm64".
    virtual void manifest_done(const std::string& /*digest*/, const std::string& /*platform*/,
                               BlobOutcome /*how*/, const std::string& /*from*/) {}
};

struct PushOptions {
    RegistryOptions registry;       // registry.push is set by push()
    int64_t chunk_size = 32 << 20;  // blobs larger than this go up in PATCH chunks of it
    size_t parallel = 5;            // blobs uploaded at a time (docker's max-concurrent-uploads)
    PushProgress* progress = nullptr;
};

struct PushResult {
    std::string repository;  // "127.0.0.1:5000/app"
    std::string tag;
    std::string digest;  // the manifest's
    int64_t size = 0;    // the manifest's bytes
};

// Pushes the image named `name` (a reference with a tag; the registry and repository
// come from it) from `store`.
PushResult push(Store& store, std::string_view name, const PushOptions& opts);

// The names `push --all-tags REPOSITORY` pushes: every tag of that repository in the
// store, sorted. Throws when there is none, and for a name with a tag or digest.
std::vector<std::string> repository_tags(const Store& store, std::string_view repository);

}  // namespace husk::image
