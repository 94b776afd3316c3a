#include "image/pull.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "image/digest.h"
#include "image/platforms.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/log.h"
#include "sys/syscalls.h"

namespace husk::image {
namespace {

using sys::UniqueFd;
namespace oi = oci::image;

constexpr int64_t kConfigMax = 8 << 20;
// libcurl hands a body over in pieces of 16 KiB (CURL_MAX_WRITE_SIZE) whatever its
// buffer: a layer's are gathered into blocks of this size before they are written to
// the blob file and sent to the extractor (one write and one send per block, not 16).
constexpr size_t kFeedBlock = size_t{256} << 10;

struct LayerJob {
    size_t index = 0;
    oi::Descriptor desc;
    std::string diff_id;
    std::string chain_id;
    std::string tmp_blob;       // downloaded blob waiting for commit
    std::string staged_snap;    // unpacked snapshot waiting for commit
    uint64_t file_bytes = 0;    // of the staged snapshot
    bool keep_partial = false;  // a broken-off download, kept for the next pull
    std::exception_ptr error;
};

void write_all(int fd, const char* p, size_t n, const std::string& what) {
    if (!sys::write_all(fd, p, n)) throw_sys("write", what);
}

// Returns false when the reader went away (EPIPE).
bool send_all(int fd, const char* p, size_t n) {
    while (n > 0) {
        ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EPIPE || errno == ECONNRESET)) return false;
        if (w < 0) throw_sys("send", "layer stream");
        p += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

void check_diff_id(const LayerJob& job, const UnpackResult& r) {
    if (r.diff_id != job.diff_id)
        throw Error(fmt::format("uncompressed digest {} does not match {} in the image config",
                                r.diff_id, job.diff_id));
}

bool is_cancelled(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const Error& err) {
        return err.code() == ECANCELED;
    } catch (...) {
        return false;
    }
}

class Puller {
  public:
    Puller(Store& store, RegistryClient& client, const PullOptions& opts)
        : store_(store), client_(client), opts_(opts) {}

    // Layers are taken in order, so a layer waiting for the ones below it (a hardlink
    // into them) only waits for layers already taken by another thread.
    void run(std::vector<LayerJob>& jobs) {
        jobs_ = &jobs;
        settled_.assign(jobs.size(), false);
        std::atomic<size_t> next{0};
        auto worker = [&] {
            while (true) {
                size_t i = next++;
                if (i >= jobs.size()) return;
                try {
                    with_context(fmt::format("layer {}", jobs[i].desc.digest),
                                 [&] { layer(jobs[i]); });
                } catch (...) {
                    jobs[i].error = std::current_exception();
                    cancel_ = true;
                }
                std::lock_guard lk(m_);
                settled_[i] = true;
                if (jobs[i].error && !root_cause_ && !is_cancelled(jobs[i].error))
                    root_cause_ = jobs[i].error;
                settled_cv_.notify_all();
            }
        };
        size_t n = std::min(std::max<size_t>(opts_.parallel, 1), jobs.size());
        std::vector<std::thread> threads;
        for (size_t t = 1; t < n; ++t) threads.emplace_back(worker);
        worker();
        for (auto& t : threads) t.join();
    }

    // The error that made the pull fail: the first layer that failed by itself, not one
    // that was cancelled because of it. Null when every layer succeeded.
    std::exception_ptr error() const {
        if (root_cause_) return root_cause_;
        for (auto& j : *jobs_)
            if (j.error) return j.error;
        return nullptr;
    }

  private:
    void layer(LayerJob& job) {
        const bool need_blob = !store_.has_blob(job.desc.digest);
        const bool need_snap = !store_.has_snapshot(job.chain_id);
        if (opts_.progress)
            opts_.progress->layer_start(job.index, job.desc.digest, job.desc.size,
                                        !need_blob && !need_snap);
        if (!need_blob && !need_snap) {
            if (opts_.progress) opts_.progress->layer_done(job.index);
            return;
        }
        if (need_snap) job.staged_snap = store_.stage_snapshot();
        if (!need_blob) {
            UniqueFd blob(::open(store_.blob_path(job.desc.digest).c_str(), O_RDONLY | O_CLOEXEC));
            if (!blob) throw_sys("open", store_.blob_path(job.desc.digest));
            UnpackResult r = unpack_into(blob.get(), job);
            check_diff_id(job, r);
            job.file_bytes = r.file_bytes;
            if (opts_.progress) opts_.progress->layer_done(job.index);
            return;
        }
        UniqueFd out = open_partial(job);

        // The extractor reads the compressed stream from a socket fed by the download.
        UniqueFd feed, drain;
        std::thread extractor;
        UnpackResult unpacked;
        std::exception_ptr unpack_error;
        if (need_snap) {
            int sv[2];
            if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
                throw_sys("socketpair");
            feed.reset(sv[0]);
            drain.reset(sv[1]);
            extractor = std::thread([&, fd = drain.release()] {
                UniqueFd in(fd);
                try {
                    unpacked = unpack_into(in.get(), job);
                } catch (...) {
                    unpack_error = std::current_exception();
                }
            });
        }
        Sha256 hash;
        int64_t total = 0;
        std::exception_ptr download_error;
        bool extractor_gone = false;
        int64_t in_file = 0;  // bytes of the partial file
        auto pass_on = [&](const char* p, size_t n, bool to_file) {
            if (to_file) {
                write_all(out.get(), p, n, job.tmp_blob);
                // its writeback started now (a hint, not waited for): the disk writes the
                // blob while the layer unpacks, and the pull's syncfs waits for less
                ::sync_file_range(out.get(), in_file, static_cast<off_t>(n), SYNC_FILE_RANGE_WRITE);
                in_file += static_cast<int64_t>(n);
            }
            if (feed && !send_all(feed.get(), p, n)) {
                extractor_gone = true;
                throw Error("unpacking stopped");
            }
        };
        // the network's bytes hashed and counted but not yet passed on
        auto block = std::make_unique<char[]>(kFeedBlock);
        size_t held = 0;
        auto flush = [&] {
            if (size_t n = std::exchange(held, 0); n > 0) pass_on(block.get(), n, true);
        };
        auto consume = [&](const char* p, size_t n, bool from_network) {
            if (interrupted()) throw Error("interrupted");
            if (cancel_) throw Error("cancelled", ECANCELED);
            total += static_cast<int64_t>(n);
            if (total > job.desc.size)
                throw Error(fmt::format(
                    "the registry sent more than the {} bytes of the descriptor", job.desc.size));
            hash.update(p, n);
            if (!from_network) {
                pass_on(p, n, false);
            } else {
                if (held + n > kFeedBlock) flush();
                if (n >= kFeedBlock) {
                    pass_on(p, n, true);
                } else {
                    std::memcpy(block.get() + held, p, n);
                    held += n;
                }
            }
            if (opts_.progress) opts_.progress->layer_bytes(job.index, static_cast<int64_t>(n));
        };
        try {
            // What an interrupted pull left behind goes through the pipeline first.
            int64_t have = replay_partial(out.get(), job, consume);
            in_file = have;
            if (have > 0) log::debug("layer {}: resuming at byte {}", job.desc.digest, have);
            client_.stream_blob(job.desc.digest, have,
                                [&](const char* p, size_t n) { consume(p, n, true); });
            flush();
        } catch (...) {
            download_error = std::current_exception();
            // what was held goes to the partial file for the next pull to resume after
            // (at worst it fetches these bytes again: it resumes where the file ends)
            if (held > 0 && !sys::write_all(out.get(), block.get(), held))
                log::debug("layer {}: write {}: {}", job.desc.digest, job.tmp_blob,
                           std::strerror(errno));
            held = 0;
        }
        // Keep the bytes of a transfer that broke off, for the next pull to resume.
        job.keep_partial = download_error && !extractor_gone && (interrupted() || !cancel_) &&
                           total > 0 && total < job.desc.size;
        feed.reset();  // EOF for the extractor
        if (extractor.joinable()) extractor.join();
        // The most precise error first: the transfer, then size and digest, then unpacking.
        if (download_error && !extractor_gone) std::rethrow_exception(download_error);
        if (!extractor_gone) {
            if (total != job.desc.size)
                throw Error(
                    fmt::format("size mismatch: the descriptor says {} bytes, the "
                                "registry sent {}",
                                job.desc.size, total));
            std::string got = hash.digest();
            if (got != job.desc.digest)
                throw Error(
                    fmt::format("digest mismatch: the registry sent content with digest {}", got));
        }
        if (unpack_error) std::rethrow_exception(unpack_error);
        if (download_error) std::rethrow_exception(download_error);
        if (need_snap) {
            check_diff_id(job, unpacked);
            job.file_bytes = unpacked.file_bytes;
        }
        if (opts_.progress) opts_.progress->layer_done(job.index);
    }

    bool interrupted() const { return opts_.interrupt != nullptr && opts_.interrupt->load(); }

    // tmp/partial-<hex>, locked; a private file when another pull is writing it.
    UniqueFd open_partial(LayerJob& job) {
        job.tmp_blob = store_.tmp_dir() + "/partial-" + oi::digest_hex(job.desc.digest);
        UniqueFd fd(::open(job.tmp_blob.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
        if (!fd) throw_sys("open", job.tmp_blob);
        if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
            job.tmp_blob = store_.tmp_dir() + "/" + sys::unique_name("blob-");
            fd.reset(::open(job.tmp_blob.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
            if (!fd) throw_sys("create", job.tmp_blob);
        }
        return fd;
    }

    // Feeds the bytes already in `fd` to `consume`; returns how many (0 when the file
    // is empty or longer than the blob, which is then truncated).
    template <class Consume>
    int64_t replay_partial(int fd, const LayerJob& job, Consume&& consume) {
        struct stat st {};
        if (::fstat(fd, &st) != 0) throw_sys("stat", job.tmp_blob);
        if (st.st_size == 0) return 0;
        if (st.st_size >= job.desc.size) {
            if (::ftruncate(fd, 0) != 0) throw_sys("truncate", job.tmp_blob);
            return 0;
        }
        std::vector<char> buf(1 << 20);
        int64_t done = 0;
        while (done < st.st_size) {
            ssize_t n = ::pread(fd, buf.data(), buf.size(), done);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw_sys("read", job.tmp_blob);
            if (n == 0) break;
            consume(buf.data(), static_cast<size_t>(n), false);
            done += n;
        }
        if (::lseek(fd, done, SEEK_SET) < 0) throw_sys("seek", job.tmp_blob);
        return done;
    }

    UnpackResult unpack_into(int fd, const LayerJob& job) {
        UniqueFd root(
            ::open((job.staged_snap + "/fs").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!root) throw_sys("open", job.staged_snap + "/fs");
        return unpack_layer(fd, root.get(), opts_.limits, &cancel_,
                            [this, &job] { return lower_roots(job.index); });
    }

    // The roots of the layers below layer `i`, top first, once they are all unpacked.
    std::vector<UniqueFd> lower_roots(size_t i) {
        {
            std::unique_lock lk(m_);
            settled_cv_.wait(lk, [&] {
                return cancel_ || std::all_of(settled_.begin(), settled_.begin() + i,
                                              [](bool b) { return b; });
            });
        }
        if (cancel_) throw Error("cancelled", ECANCELED);
        std::vector<UniqueFd> out;
        for (size_t j = i; j-- > 0;) {
            const LayerJob& l = (*jobs_)[j];
            std::string dir =
                (l.staged_snap.empty() ? store_.snapshot_dir(l.chain_id) : l.staged_snap) + "/fs";
            UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            if (!fd) throw_sys("open lower layer", dir);
            out.push_back(std::move(fd));
        }
        return out;
    }

    Store& store_;
    RegistryClient& client_;
    const PullOptions& opts_;
    std::atomic<bool> cancel_{false};
    std::vector<LayerJob>* jobs_ = nullptr;
    std::mutex m_;
    std::condition_variable settled_cv_;
    std::vector<bool> settled_;  // per layer: unpacked, or failed
    std::exception_ptr root_cause_;
};

void discard(const Store& store, std::vector<LayerJob>& jobs) {
    for (auto& j : jobs) {
        if (!j.tmp_blob.empty() && !j.keep_partial) ::unlink(j.tmp_blob.c_str());
        if (!j.staged_snap.empty()) {
            try {
                store.remove_tree(j.staged_snap);
            } catch (const std::exception& e) {
                log::warn("{}", e.what());
            }
        }
    }
}

// The manifest `ref` names, from the first of the registry's mirrors that serves it, else
// from the registry itself. A mirror that fails is skipped with a warning; the client
// that answered serves the blobs too.
std::pair<std::unique_ptr<RegistryClient>, RegistryClient::Response> open_source(
    const oi::Reference& ref, const PullOptions& opts) {
    auto fetch = [&](RegistryClient& c) {
        auto top = c.get_manifest(ref.tag_or_digest());
        std::string got = sha256_digest(top.body);
        if (!ref.digest.empty() && got != ref.digest)
            throw Error(fmt::format("registry {}: sent a manifest with digest {}, not {}",
                                    c.registry(), got, ref.digest));
        return top;
    };
    for (const Mirror& m : opts.registry.config.mirrors_of(ref.domain)) {
        auto c = std::make_unique<RegistryClient>(m.host, m.repository(ref.path), opts.registry);
        try {
            // a mirror that does not answer at once is skipped, not waited for
            c->set_retries(0);
            auto top = fetch(*c);
            c->set_retries(opts.registry.retries);
            log::debug("{}: pulling from mirror {}", ref.str(), m.str());
            return {std::move(c), std::move(top)};
        } catch (const Error& e) {
            if (opts.interrupt != nullptr && opts.interrupt->load()) throw;
            log::warn("mirror {} of {} skipped: {}", m.str(), ref.domain, e.what());
        }
    }
    auto c = std::make_unique<RegistryClient>(ref.domain, ref.path, opts.registry);
    auto top = fetch(*c);
    return {std::move(c), std::move(top)};
}

}  // namespace

std::string auth_file_path(const std::string& root) {
    return root + "/auth.json";
}

Image pull(Store& store, const oi::Reference& ref, const PullOptions& opts) {
    return with_context(fmt::format("pull {}", ref.str()), [&] {
        auto lock = store.lock_shared();
        auto [client_ptr, top] = open_source(ref, opts);
        RegistryClient& client = *client_ptr;
        const std::string top_digest = sha256_digest(top.body);
        std::string body = top.body;
        std::string digest = top_digest;
        std::string media_type;
        std::optional<std::string> index_body;
        if (oi::classify_manifest(top.content_type, top.body) == oi::ManifestKind::index) {
            oi::Index idx = oi::parse_index(top.body);
            const oi::Descriptor& d = oi::select_platform(idx, opts.platform);
            auto m = client.get_manifest(d.digest);
            if (sha256_digest(m.body) != d.digest)
                throw Error(fmt::format("manifest {}: digest mismatch", d.digest));
            index_body = std::move(body);
            body = std::move(m.body);
            digest = d.digest;
            media_type = d.media_type;
            if (oi::classify_manifest(m.content_type, body) != oi::ManifestKind::manifest)
                throw Error(fmt::format("manifest {}: an index inside an index", d.digest));
        }
        oi::Manifest manifest = oi::parse_manifest(body);
        if (media_type.empty())
            media_type = manifest.media_type.empty() ? std::string(oi::media::kOciManifest)
                                                     : manifest.media_type;
        const auto& cd = manifest.config;
        if (cd.size > kConfigMax)
            throw Error(fmt::format("image config of {} bytes is too large", cd.size));
        std::string config_json = store.has_blob(cd.digest)
                                      ? store.read_blob(cd.digest)
                                      : client.get_blob(cd.digest, kConfigMax);
        if (sha256_digest(config_json) != cd.digest)
            throw Error(fmt::format("image config {}: digest mismatch", cd.digest));
        oi::ImageConfig config = oi::parse_image_config(config_json);
        if (config.diff_ids.size() != manifest.layers.size())
            throw Error(fmt::format("the image config lists {} layers, the manifest {}",
                                    config.diff_ids.size(), manifest.layers.size()));
        if (opts.progress) {
            std::vector<std::string> digests;
            for (auto& l : manifest.layers) digests.push_back(l.digest);
            opts.progress->resolved(digest, digests);
        }

        auto chains = chain_ids(config.diff_ids);
        std::vector<LayerJob> jobs(manifest.layers.size());
        for (size_t i = 0; i < jobs.size(); ++i) {
            jobs[i].index = i;
            jobs[i].desc = manifest.layers[i];
            jobs[i].diff_id = config.diff_ids[i];
            jobs[i].chain_id = chains[i];
        }
        Puller puller(store, client, opts);
        puller.run(jobs);
        if (auto error = puller.error()) {
            discard(store, jobs);
            std::rethrow_exception(error);
        }
        try {
            bool staged = false;
            std::vector<std::string> snaps;
            for (auto& j : jobs) {
                if (!j.staged_snap.empty()) {
                    snaps.push_back(j.staged_snap);
                    sys::write_file_atomic(j.staged_snap + "/size", std::to_string(j.file_bytes),
                                           0644, false);
                }
                staged = staged || !j.staged_snap.empty() || !j.tmp_blob.empty();
            }
            // Every blob and snapshot staged above on disk before any is counted complete:
            // one syncfs for the pull, not an fsync per file.
            store.shift_staged(snaps);
            if (staged) store.sync();
            for (auto& j : jobs) {
                if (!j.tmp_blob.empty()) store.commit_blob(j.tmp_blob, j.desc.digest);
                j.tmp_blob.clear();
                if (!j.staged_snap.empty()) store.commit_snapshot(j.staged_snap, j.chain_id);
                j.staged_snap.clear();
            }
        } catch (...) {
            discard(store, jobs);
            throw;
        }
        store.write_blob(config_json);
        store.write_blob(body);
        if (index_body) store.write_blob(*index_body);
        ImageRecord rec;
        rec.name = ref.str();
        rec.manifest.media_type = media_type;
        rec.manifest.digest = digest;
        rec.manifest.size = static_cast<int64_t>(body.size());
        rec.repo_digest = top_digest;
        auto recs = store.records();
        // a build's FROM for another platform than the named image's (this machine's when
        // nothing has the name yet): the name is left alone
        bool hide = false;
        if (opts.keep_names) {
            oi::Platform owner = oi::host_platform();
            auto named = std::find_if(recs.begin(), recs.end(),
                                      [&](const ImageRecord& r) { return r.name == rec.name; });
            if (named != recs.end()) try {
                    owner = platform_of(store.load_image(*named));
                } catch (const Error& e) {
                    log::debug("pull: {}: {}", named->name, e.what());
                }
            hide = !oi::platform_matches(opts.platform, owner);
        }
        if (hide) {
            rec.name.clear();
            rec.manifest.annotations[std::string(kIntermediateAnnotation)] = "true";
        }
        if (!hide || std::none_of(recs.begin(), recs.end(), [&](const ImageRecord& r) {
                return r.manifest.digest == digest;
            }))
            store.add_records({rec});
        Image img = store.load_image(rec);
        return img;
    });
}

}  // namespace husk::image
