// `husk build`: a Dockerfile and its context turned into an image on the same store,
// snapshots and runtime core as `husk run` (no second code path). Each step commits an
// intermediate image (hidden from `husk images`, kept for the build cache): RUN runs as a
// container through the engine and its overlayfs upper dir becomes the step's layer;
// COPY/ADD write into a fresh root over the previous step's image, whose upper dir
// becomes the layer; the other instructions change only the config.
//
// The build cache (build/cache.h) reuses a step when its parent image, its instruction
// with the ARG values in effect (ENV is part of the parent's config) and, for COPY/ADD,
// the digest of what it copies are the same.
//
// Output as docker's classic builder: "Step N/M : INSTRUCTION", " ---> Using cache",
// " ---> <id>", "Successfully built <id>", "Successfully tagged <name>"; -q prints only the
// image id. An error names the Dockerfile line ("Dockerfile:7: RUN returned exit code 2");
// a failed step leaves no image, container or mount behind.
#pragma once

#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/options.h"
#include "engine/run.h"
#include "image/layer_diff.h"
#include "image/platforms.h"
#include "oci/image/types.h"

namespace husk::build {

struct BuildOptions {
    std::string context;                            // the context directory
    std::string dockerfile;                         // -f; "" = CONTEXT/Dockerfile
    std::vector<std::string> tags;                  // -t, as given
    std::map<std::string, std::string> build_args;  // --build-arg
    std::string target;                             // --target
    bool no_cache = false;
    bool pull = false;                          // --pull: fetch FROM images again
    bool quiet = false;                         // -q
    bool tty_progress = false;                  // --progress tty: steps redrawn in place
    std::map<std::string, std::string> labels;  // --label
    engine::NetworkMode network = engine::NetworkMode::bridge;
    // --platform: the image's platform (TARGETPLATFORM). RUN in a stage of another
    // platform than this machine's runs through binfmt_misc (engine/emulation.h).
    oci::image::Platform platform = oci::image::host_platform();
    // --platform a,b: the Dockerfile built once per platform (each its own TARGET* ARGs and
    // cache entries), the tags naming an OCI index over the platforms' images as a pull of
    // a multi-platform index is stored (image/store.h add_index_image). Overrides platform.
    std::vector<oci::image::Platform> platforms;
    // Fetches a FROM's image for its platform when the store has none of it (or --pull);
    // required.
    image::PullPlatform pull_platform;
    image::LayerWriteOptions layer;  // compression, SOURCE_DATE_EPOCH
    std::FILE* out = stdout;         // progress
};

struct BuildResult {
    std::string
        id;  // the image id (config digest); several platforms: this machine's (or the first)
    std::string manifest_digest;
    std::string index_digest;        // several platforms: their index
    std::vector<std::string> names;  // full references given to it
};

// Needs ctx.store (and ctx.pull to fetch missing FROM images).
BuildResult build_image(engine::EngineContext& ctx, const BuildOptions& opts);

// What a killed build left: its step containers, step roots, staging directories and
// locks, each removed when no live build holds its lock. build_image calls it first.
void remove_stale_build_state(engine::EngineContext& ctx);

}  // namespace husk::build
