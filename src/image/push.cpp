#include "image/push.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <map>

#include <fmt/format.h>

#include "oci/image/reference.h"
#include "oci/image/types.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/log.h"

namespace husk::image {
namespace {

namespace oi = oci::image;

// Blob digest -> a repository of `ref`'s registry that the store's names say holds it
// (an image pulled from, or pushed to, that repository): candidates for a mount.
std::map<std::string, std::string> mount_sources(const Store& store, const oi::Reference& ref) {
    std::map<std::string, std::string> out;
    for (auto& rec : store.records()) {
        if (rec.name.empty()) continue;
        oi::Reference other;
        try {
            other = oi::parse_reference(rec.name);
        } catch (const Error&) {
            continue;
        }
        if (other.domain != ref.domain || other.path == ref.path) continue;
        try {
            Image img = store.load_image(rec);
            for (auto& l : img.manifest.layers) out.emplace(l.digest, other.path);
        } catch (const std::exception& e) {
            log::debug("push: skipping {} as a mount source: {}", rec.name, e.what());
        }
    }
    return out;
}

BlobOutcome push_blob(const Store& store, RegistryClient& client, const oi::Descriptor& desc,
                      const std::string& mount_from, const PushOptions& opts, bool layer,
                      std::string& mounted_from) {
    PushProgress* p = opts.progress;
    if (p != nullptr) p->blob_start(desc.digest, desc.size, layer);
    if (client.has_blob(desc.digest)) return BlobOutcome::exists;
    std::string path = store.blob_path(desc.digest);
    sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT)
            throw Error(
                fmt::format("blob {} is not in the store (a layer the registry did not "
                            "serve, or a damaged store)",
                            desc.digest));
        throw_sys("open", path);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw_sys("stat", path);
    if (st.st_size != desc.size)
        throw Error(fmt::format("blob {}: the store holds {} bytes, the manifest says {}",
                                desc.digest, st.st_size, desc.size));
    auto sent = [&](int64_t n) {
        if (p != nullptr) p->blob_bytes(desc.digest, n);
    };
    if (client.upload_blob(fd.get(), desc.size, desc.digest, opts.chunk_size, mount_from, sent)) {
        mounted_from = mount_from;
        return BlobOutcome::mounted;
    }
    return BlobOutcome::pushed;
}

}  // namespace

PushResult push(const Store& store, std::string_view name, const PushOptions& opts) {
    oi::Reference ref = oi::parse_reference(name);
    if (!ref.digest.empty())
        throw Error(
            error_format("push \"{}\": give a tag, not a digest (the manifest is pushed "
                         "under a tag)",
                         name));
    Image img = store.resolve(ref.str());
    std::string manifest = store.read_blob(img.manifest_digest);
    std::string media_type = img.manifest.media_type.empty() ? std::string(oi::media::kOciManifest)
                                                             : img.manifest.media_type;
    return with_context(fmt::format("push {}", ref.familiar_name()), [&] {
        if (opts.progress != nullptr) opts.progress->started(ref.name());
        RegistryOptions ro = opts.registry;
        ro.push = true;
        RegistryClient client(ref.domain, ref.path, ro);
        auto sources = mount_sources(store, ref);
        for (auto& l : img.manifest.layers) {
            if (!l.urls.empty() && !store.has_blob(l.digest)) {
                log::info("push: skipping foreign layer {}", l.digest);
                continue;
            }
            auto src = sources.find(l.digest);
            std::string from;
            BlobOutcome how =
                push_blob(store, client, l, src == sources.end() ? std::string() : src->second,
                          opts, true, from);
            if (opts.progress != nullptr) opts.progress->blob_done(l.digest, true, how, from);
        }
        std::string from;
        BlobOutcome how = push_blob(store, client, img.manifest.config, {}, opts, false, from);
        if (opts.progress != nullptr)
            opts.progress->blob_done(img.manifest.config.digest, false, how, from);
        std::string said = client.put_manifest(ref.tag, media_type, manifest);
        if (!said.empty() && said != img.manifest_digest)
            throw Error(fmt::format("the registry stored the manifest as {}, not {}", said,
                                    img.manifest_digest));
        return PushResult{ref.name(), ref.tag, img.manifest_digest,
                          static_cast<int64_t>(manifest.size())};
    });
}

}  // namespace husk::image
