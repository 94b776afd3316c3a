// The platforms of an image stored as an index (pulled from a multi-platform index, loaded
// from an archive of one, or made by `husk build --platform a,b`): the store's entry for a
// name points to one platform's manifest, its repo digest to the index blob (store.h); the
// other platforms are in the store when their manifest, config and layers are.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/store.h"
#include "oci/image/types.h"

namespace husk::image {

// An entry's annotation marking an image hidden from `husk images` (a build step's, or one
// platform of an index whose name points to another).
inline constexpr std::string_view kIntermediateAnnotation = "io.husk.build.intermediate";

// The descriptor of `img`'s manifest as a record or an index names it (its media type,
// digest and size).
oci::image::Descriptor manifest_descriptor(const Store& store, const Image& img);

// The platform `img`'s config names (an empty os is linux's).
oci::image::Platform platform_of(const Image& img);

// The platforms of `img`'s index the store holds whole (`img` itself among them); `img`
// alone when it has no index.
std::vector<Image> held_platforms(const Store& store, const Image& img);

// The image of `p` among them; nullopt when the store does not hold it.
std::optional<Image> platform_image(const Store& store, const Image& img,
                                    const oci::image::Platform& p);

// Fetches `ref`'s image of a platform into the store and returns it.
using PullPlatform = std::function<Image(const std::string&, const oci::image::Platform&)>;

// `ref`'s image of `p` (husk run --platform, a build's FROM): the store's when it is of `p`,
// else `p`'s image of the index it came as when the store holds it, else what `pull`
// fetches (first of all with `always_pull`; an empty `pull` fetches nothing). Throws when
// there is none of `p`.
Image image_for_platform(Store& store, const std::string& ref, const oci::image::Platform& p,
                         const PullPlatform& pull, bool always_pull = false);

// An OCI index over `platforms` (each image's platform from its config) written as a blob;
// one entry per name in `names` (or one unnamed) for this machine's platform (else the
// first), the index as its repo digest, as a pull of a multi-platform index records it;
// hidden entries for the others. Returns the named image.
Image add_index_image(Store& store, const std::vector<Image>& platforms,
                      const std::vector<std::string>& names);

}  // namespace husk::image
