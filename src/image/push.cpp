#include "image/push.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "image/digest.h"
#include "image/platforms.h"
#include "oci/image/reference.h"
#include "oci/image/types.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/log.h"
#include "sys/scope_guard.h"

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

// The caller's progress, called by one thread at a time.
class LockedProgress : public PushProgress {
  public:
    explicit LockedProgress(PushProgress* inner) : inner_(inner) {}
    void started(const std::string& repository) override {
        if (inner_ == nullptr) return;
        std::lock_guard lk(mu_);
        inner_->started(repository);
    }
    void blob_start(const std::string& digest, int64_t size, bool layer) override {
        if (inner_ == nullptr) return;
        std::lock_guard lk(mu_);
        inner_->blob_start(digest, size, layer);
    }
    void blob_bytes(const std::string& digest, int64_t sent) override {
        if (inner_ == nullptr) return;
        std::lock_guard lk(mu_);
        inner_->blob_bytes(digest, sent);
    }
    void blob_done(const std::string& digest, bool layer, BlobOutcome how,
                   const std::string& from) override {
        if (inner_ == nullptr) return;
        std::lock_guard lk(mu_);
        inner_->blob_done(digest, layer, how, from);
    }
    void manifest_done(const std::string& digest, const std::string& platform, BlobOutcome how,
                       const std::string& from) override {
        if (inner_ == nullptr) return;
        std::lock_guard lk(mu_);
        inner_->manifest_done(digest, platform, how, from);
    }

  private:
    PushProgress* inner_;
    std::mutex mu_;
};

// One blob to put into the registry: from the store, or first fetched from `source`
// (a platform of an index the store does not hold).
struct BlobJob {
    oi::Descriptor desc;
    bool layer = true;
    std::string mount_from;            // a repository of the registry that holds it
    RegistryClient* source = nullptr;  // where to fetch it when it is not in the store
};

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

// A blob the store does not hold, fetched from `source` into a file under the store's
// tmp/ (removed when done), then mounted from `mount_from` when the registry allows or
// uploaded from that file.
BlobOutcome copy_blob(const Store& store, RegistryClient& client, RegistryClient& source,
                      const BlobJob& job, const PushOptions& opts, std::string& mounted_from) {
    if (opts.progress != nullptr)
        opts.progress->blob_start(job.desc.digest, job.desc.size, job.layer);
    if (client.has_blob(job.desc.digest)) return BlobOutcome::exists;
    std::string tmp = fmt::format("{}/{}", store.tmp_dir(), sys::unique_name("push-"));
    sys::UniqueFd fd(::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd) throw_sys("create", tmp);
    sys::ScopeGuard gone([&]() noexcept { ::unlink(tmp.c_str()); });
    source.stream_blob(job.desc.digest, 0, [&](const char* data, size_t n) {
        for (size_t done = 0; done < n;) {
            ssize_t w = ::write(fd.get(), data + done, n - done);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) throw_sys("write", tmp);
            done += static_cast<size_t>(w);
        }
    });
    if (::lseek(fd.get(), 0, SEEK_SET) != 0) throw_sys("seek", tmp);
    if (client.upload_blob(fd.get(), job.desc.size, job.desc.digest, opts.chunk_size,
                           job.mount_from)) {
        mounted_from = job.mount_from;
        return BlobOutcome::mounted;
    }
    return BlobOutcome::pushed;
}

// The blobs of `jobs`, `opts.parallel` at a time; the first failure is thrown once every
// upload under way has ended (no new one starts after it).
void push_blobs(const Store& store, RegistryClient& client, const std::vector<BlobJob>& jobs,
                const PushOptions& opts) {
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::vector<std::exception_ptr> errors(jobs.size());
    auto worker = [&] {
        while (!failed) {
            size_t i = next++;
            if (i >= jobs.size()) return;
            const BlobJob& job = jobs[i];
            try {
                std::string from;
                BlobOutcome how =
                    job.source != nullptr && !store.has_blob(job.desc.digest)
                        ? copy_blob(store, client, *job.source, job, opts, from)
                        : push_blob(store, client, job.desc, job.mount_from, opts, job.layer, from);
                if (opts.progress != nullptr)
                    opts.progress->blob_done(job.desc.digest, job.layer, how, from);
            } catch (...) {
                errors[i] = std::current_exception();
                failed = true;
            }
        }
    };
    size_t n = std::min(std::max<size_t>(opts.parallel, 1), jobs.size());
    std::vector<std::thread> threads;
    for (size_t t = 1; t < n; ++t) threads.emplace_back(worker);
    worker();
    for (auto& t : threads) t.join();
    for (auto& e : errors)
        if (e) std::rethrow_exception(e);
}

// The blobs of one manifest as upload jobs: layers (foreign ones the store lacks left
// out), then the config.
std::vector<BlobJob> blob_jobs(const Store& store, const oi::Manifest& m,
                               const std::map<std::string, std::string>& sources,
                               RegistryClient* source, const std::string& source_repo) {
    std::vector<BlobJob> jobs;
    for (auto& l : m.layers) {
        if (!l.urls.empty() && !store.has_blob(l.digest)) {
            log::info("push: skipping foreign layer {}", l.digest);
            continue;
        }
        auto src = sources.find(l.digest);
        jobs.push_back({l, true, src != sources.end() ? src->second : source_repo, source});
    }
    jobs.push_back({m.config, false, source_repo, source});
    return jobs;
}

// PUT of a manifest whose digest the registry must report back unchanged.
void put_manifest_checked(RegistryClient& client, const std::string& reference,
                          const std::string& media_type, const std::string& body,
                          const std::string& digest) {
    std::string said = client.put_manifest(reference, media_type, body);
    if (!said.empty() && said != digest)
        throw Error(fmt::format("the registry stored the manifest as {}, not {}", said, digest));
}

std::string platform_text(const oi::Descriptor& d) {
    if (!d.platform) return "unknown";
    std::string s = fmt::format("{}/{}", d.platform->os, d.platform->architecture);
    if (!d.platform->variant.empty()) s += "/" + d.platform->variant;
    return s;
}

// An index whose every other platform's manifest the registry has or can get.
struct OtherPlatform {
    oi::Descriptor desc;
    std::string manifest;                    // its bytes (from the registry it is copied from)
    std::unique_ptr<RegistryClient> source;  // where it and its blobs come from
    std::string repository;                  // that repository ("" when already there)
    std::string mount_from;                  // the same, when on the target's registry
};

// Pushes `img` as the index it was pulled from: its blobs and those of every other
// platform the registry lacks, each platform's manifest by digest, then the index under
// the tag. nullopt (nothing pushed) when a platform's manifest is neither in the
// registry nor in a repository the image was pulled from: the caller pushes the
// platform manifest alone.
std::optional<PushResult> push_index(const Store& store, RegistryClient& client,
                                     const oi::Reference& ref, const Image& img,
                                     const std::string& manifest, const std::string& manifest_type,
                                     const std::map<std::string, std::string>& sources,
                                     const PushOptions& opts) {
    std::string index = store.read_blob(img.index_digest);
    oi::Index idx = oi::parse_index(index);
    std::vector<oi::Reference> origins;  // the image's other names, pulled as this index
    for (auto& rec : store.records()) {
        if (rec.name.empty() || rec.repo_digest != img.index_digest) continue;
        try {
            oi::Reference r = oi::parse_reference(rec.name);
            if (r.name() != ref.name()) origins.push_back(r);
        } catch (const Error&) {
        }
    }
    std::string held = "this platform";
    for (auto& d : idx.manifests)
        if (d.digest == img.manifest_digest) held = platform_text(d);
    std::set<std::string> held_here;  // the other platforms whose blobs are all in the store
    for (auto& h : held_platforms(store, img)) held_here.insert(h.manifest_digest);
    std::vector<OtherPlatform> others;
    for (auto& d : idx.manifests) {
        if (d.digest == img.manifest_digest) continue;
        OtherPlatform o{d, {}, nullptr, {}, {}};
        try {
            client.get_manifest(d.digest);
            if (opts.progress != nullptr)
                opts.progress->manifest_done(d.digest, platform_text(d), BlobOutcome::exists, {});
            continue;
        } catch (const Error&) {
        }
        if (held_here.contains(d.digest)) {  // built or loaded here: from the store's blobs
            o.manifest = store.read_blob(d.digest);
            others.push_back(std::move(o));
            continue;
        }
        for (auto& origin : origins) {
            try {
                auto src =
                    std::make_unique<RegistryClient>(origin.domain, origin.path, opts.registry);
                auto got = src->get_manifest(d.digest);
                if (sha256_digest(got.body) != d.digest) continue;
                o.manifest = std::move(got.body);
                o.source = std::move(src);
                o.repository = origin.path;
                if (origin.domain == ref.domain) o.mount_from = origin.path;
                break;
            } catch (const Error& e) {
                log::debug("push: platform {} from {}: {}", platform_text(d), origin.str(),
                           e.what());
            }
        }
        if (!o.source) {
            log::warn(
                "push {}: the store holds only {} of its index and no repository it came from "
                "has {}: pushing {} alone",
                ref.familiar_name(), held, platform_text(d), held);
            return std::nullopt;
        }
        others.push_back(std::move(o));
    }
    std::vector<BlobJob> jobs = blob_jobs(store, img.manifest, sources, nullptr, {});
    std::set<std::string> queued;  // a blob two platforms share goes up once
    for (auto& j : jobs) queued.insert(j.desc.digest);
    for (auto& o : others)
        for (auto& j : blob_jobs(store, oi::parse_manifest(o.manifest), sources, o.source.get(),
                                 o.mount_from))
            if (queued.insert(j.desc.digest).second) jobs.push_back(j);
    push_blobs(store, client, jobs, opts);
    for (auto& o : others) {
        put_manifest_checked(client, o.desc.digest, o.desc.media_type, o.manifest, o.desc.digest);
        if (opts.progress != nullptr)
            opts.progress->manifest_done(o.desc.digest, platform_text(o.desc),
                                         o.source ? BlobOutcome::mounted : BlobOutcome::pushed,
                                         o.repository);
    }
    put_manifest_checked(client, img.manifest_digest, manifest_type, manifest, img.manifest_digest);
    if (opts.progress != nullptr)
        for (auto& d : idx.manifests)
            if (d.digest == img.manifest_digest)
                opts.progress->manifest_done(d.digest, platform_text(d), BlobOutcome::pushed, {});
    put_manifest_checked(client, ref.tag, img.index_media_type, index, img.index_digest);
    return PushResult{ref.name(), ref.tag, img.index_digest, static_cast<int64_t>(index.size())};
}

// The name's entry now says what the registry serves for it.
void record_repo_digest(Store& store, const std::string& name, const std::string& digest) {
    for (auto& rec : store.records()) {
        if (rec.name != name || rec.repo_digest == digest) continue;
        ImageRecord updated = rec;
        updated.repo_digest = digest;
        store.add_records({updated});
    }
}

}  // namespace

std::vector<std::string> repository_tags(const Store& store, std::string_view repository) {
    oi::Reference want = oi::parse_reference(repository);
    size_t slash = repository.rfind('/');
    std::string_view last = repository.substr(slash == std::string_view::npos ? 0 : slash + 1);
    if (!want.digest.empty() || last.find(':') != std::string_view::npos)
        throw Error(fmt::format("push --all-tags \"{}\": give a repository without a tag or digest",
                                repository));
    std::set<std::string> out;
    for (auto& rec : store.records()) {
        if (rec.name.empty()) continue;
        try {
            oi::Reference r = oi::parse_reference(rec.name);
            if (r.name() == want.name() && r.digest.empty() && !r.tag.empty()) out.insert(rec.name);
        } catch (const Error&) {
        }
    }
    if (out.empty())
        throw Error(fmt::format("push --all-tags: no tag of {} in the store", want.name()));
    return {out.begin(), out.end()};
}

PushResult push(Store& store, std::string_view name, const PushOptions& opts) {
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
    PushResult pushed = with_context(fmt::format("push {}", ref.familiar_name()), [&] {
        LockedProgress progress(opts.progress);
        PushOptions po = opts;
        po.progress = &progress;
        progress.started(ref.name());
        RegistryOptions ro = opts.registry;
        ro.push = true;
        RegistryClient client(ref.domain, ref.path, ro);
        auto sources = mount_sources(store, ref);
        if (!img.index_digest.empty())
            if (auto r = push_index(store, client, ref, img, manifest, media_type, sources, po))
                return *r;
        push_blobs(store, client, blob_jobs(store, img.manifest, sources, nullptr, {}), po);
        put_manifest_checked(client, ref.tag, media_type, manifest, img.manifest_digest);
        return PushResult{ref.name(), ref.tag, img.manifest_digest,
                          static_cast<int64_t>(manifest.size())};
    });
    record_repo_digest(store, ref.str(), pushed.digest);
    return pushed;
}

}  // namespace husk::image
