#include "image/platforms.h"

#include <fmt/format.h>

#include "oci/image/reference.h"
#include "sys/error.h"
#include "sys/log.h"

namespace husk::image {
namespace {

namespace oi = oci::image;

ImageRecord hidden_record(const Store& store, const Image& img) {
    ImageRecord rec{"", manifest_descriptor(store, img), ""};
    rec.manifest.annotations[std::string(kIntermediateAnnotation)] = "true";
    return rec;
}

}  // namespace

oi::Descriptor manifest_descriptor(const Store& store, const Image& img) {
    oi::Descriptor d;
    d.media_type = img.manifest.media_type.empty() ? std::string(oi::media::kOciManifest)
                                                   : img.manifest.media_type;
    d.digest = img.manifest_digest;
    d.size = static_cast<int64_t>(store.read_blob(img.manifest_digest).size());
    return d;
}

oi::Platform platform_of(const Image& img) {
    return {img.config.os.empty() ? "linux" : img.config.os,
            img.config.architecture,
            img.config.variant,
            {},
            {}};
}

std::vector<Image> held_platforms(const Store& store, const Image& img) {
    if (img.index_digest.empty()) return {img};
    std::vector<Image> out;
    oi::Index idx = oi::parse_index(store.read_blob(img.index_digest));
    for (auto& d : idx.manifests) {
        if (d.digest == img.manifest_digest) {
            out.push_back(img);
            continue;
        }
        if (!store.has_blob(d.digest)) continue;
        try {
            ImageRecord rec{img.names.empty() ? "" : img.names.front(), d, img.repo_digest};
            rec.manifest.platform.reset();
            Image other = store.load_image(rec);
            bool whole = store.has_blob(other.id);
            for (auto& l : other.manifest.layers) whole = whole && store.has_blob(l.digest);
            if (whole) out.push_back(std::move(other));
        } catch (const Error& e) {
            log::debug("{}: platform {}: {}", img.index_digest, d.digest, e.what());
        }
    }
    return out;
}

std::optional<Image> platform_image(const Store& store, const Image& img, const oi::Platform& p) {
    for (auto& held : held_platforms(store, img))
        if (oi::platform_matches(p, platform_of(held))) return held;
    return std::nullopt;
}

Image image_for_platform(Store& store, const std::string& ref, const oi::Platform& p,
                         const PullPlatform& pull, bool always_pull) {
    if (!always_pull) {
        std::optional<Image> img;
        try {
            img = store.resolve(ref);
        } catch (const Error&) {
        }
        if (img && oi::platform_matches(p, platform_of(*img))) return *img;
        if (img)
            if (auto held = platform_image(store, *img, p)) return *held;
    }
    oi::parse_reference(ref);  // a name no registry could have: its own error first
    if (!pull)  // a caller that pulls nothing (offline): the store's answer is the answer
        throw Error(fmt::format("image \"{}\": no {} image in the store", ref, p.str()));
    Image pulled = pull(ref, p);
    if (!oi::platform_matches(p, platform_of(pulled)))
        throw Error(fmt::format("image \"{}\": no {} image was pulled (it is {})", ref, p.str(),
                                platform_of(pulled).str()));
    return pulled;
}

Image add_index_image(Store& store, const std::vector<Image>& platforms,
                      const std::vector<std::string>& names) {
    if (platforms.empty()) throw Error("add index image: no platform");
    oi::Index idx;
    idx.media_type = std::string(oi::media::kOciIndex);
    const Image* main = nullptr;
    for (auto& img : platforms) {
        if (main == nullptr && oi::platform_matches(platform_of(img), oi::host_platform()))
            main = &img;
        oi::Descriptor d = manifest_descriptor(store, img);
        d.platform = platform_of(img);
        idx.manifests.push_back(std::move(d));
    }
    if (main == nullptr) main = &platforms.front();
    std::vector<ImageRecord> recs;
    for (auto& img : platforms)
        if (&img != main) recs.push_back(hidden_record(store, img));
    ImageRecord rec{"", manifest_descriptor(store, *main), store.write_blob(oi::dump_index(idx))};
    for (auto& n : names) {
        recs.push_back(rec);
        recs.back().name = n;
    }
    if (names.empty()) recs.push_back(rec);
    store.add_records(recs);  // index.json written once
    return store.load_image(recs.back());
}

}  // namespace husk::image
