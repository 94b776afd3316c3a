#include "image/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <exception>
#include <map>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "image/digest.h"
#include "image/platforms.h"
#include "oci/image/reference.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/log.h"
#include "sys/scope_guard.h"

namespace husk::image {
namespace {

using json = nlohmann::json;
using sys::UniqueFd;
namespace oi = oci::image;

constexpr std::string_view kRepoDigestAnnotation = "io.husk.repo-digest";

using sys::list_dir;

}  // namespace

Store::Store(std::string root) : root_(std::move(root)) {
    while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
    if (root_.empty()) throw Error("store: empty data root");
    with_context(fmt::format("open image store \"{}\"", root_), [&] {
        sys::mkdir_all(root_ + "/blobs/sha256", 0755);
        sys::mkdir_all(root_ + "/snapshots", 0700);
        sys::mkdir_all(root_ + "/tmp", 0700);
        if (!sys::exists_nofollow(root_ + "/oci-layout"))
            sys::write_file_atomic(root_ + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})", 0644,
                                   true);
        if (!sys::exists_nofollow(root_ + "/index.json")) {
            sys::FileLock lk(root_ + "/index.lock", sys::FileLock::exclusive);
            if (!sys::exists_nofollow(root_ + "/index.json"))
                sys::write_file_atomic(root_ + "/index.json",
                                       R"({"schemaVersion":2,"mediaType":")" +
                                           std::string(oi::media::kOciIndex) +
                                           R"(","manifests":[]})",
                                       0644, true);
        }
        remove_stale_staging();
    });
}

std::optional<std::string> Store::ranges_moved() const {
    if (::geteuid() == 0) return std::nullopt;
    auto before = shifted_for();
    if (!before) return std::nullopt;
    // no maps now (no range, half a range, no helpers): said where a container is made
    const auto& shift = owner_shift();
    if (!shift) return std::nullopt;
    if (auto c = range_change(*before, shift->ranges);
        c == RangeChange::same || c == RangeChange::grown)
        return std::nullopt;  // grown: the record follows at the next shift (shift_staged)
    return fmt::format(
        "image store \"{}\": its files have the owners of uids {} and gids {} (owner-ranges), "
        "but /etc/subuid and /etc/subgid now give the user uids {} and gids {}: run `husk "
        "system migrate` (until then new layers stay the user's, root in containers)",
        root_, host_ranges(before->uids), host_ranges(before->gids),
        host_ranges(shift->ranges.uids), host_ranges(shift->ranges.gids));
}

void Store::set_shifted_for(const UserRanges& r) {
    sys::write_file_atomic(root_ + "/owner-ranges", ranges_text(r), 0644, true);
}

// Every pull, load and unpack stages in tmp/ while holding store.lock shared: when the
// lock is free, what is in tmp/ belongs to no live process. Partial downloads stay, for
// the next pull of the layer to resume (prune removes them).
void Store::remove_stale_staging() const {
    auto idle = sys::FileLock::try_lock(root_ + "/store.lock", sys::FileLock::exclusive);
    if (!idle) return;
    std::vector<std::string> stale;
    for (auto& t : list_dir(tmp_dir()))
        if (!t.starts_with("partial-")) stale.push_back(tmp_dir() + "/" + t);
    try {
        remove_trees(stale);
    } catch (const std::exception& e) {  // the rest removed by a later open or prune
        log::warn("stale staging: {}", e.what());
    }
}

std::string Store::blob_path(std::string_view digest) const {
    return root_ + "/blobs/sha256/" + oi::digest_hex(digest);
}

bool Store::has_blob(std::string_view digest) const {
    return sys::exists_nofollow(blob_path(digest));
}

std::string Store::read_blob(std::string_view digest) const {
    std::string data = sys::read_file(blob_path(digest));
    if (sha256_digest(data) != digest)
        throw Error(fmt::format("blob {} in \"{}\" is corrupt (digest mismatch)", digest, root_));
    return data;
}

std::string Store::write_blob(std::string_view data) {
    std::string d = sha256_digest(data);
    if (has_blob(d)) return d;
    // Staged in tmp/, never beside the blob: a writer killed mid-write leaves its file
    // where the next store open removes it, and blobs/ holds only whole blobs.
    std::string staged = tmp_dir() + "/" + sys::unique_name("blob-");
    sys::write_file_atomic(staged, data, 0644, true);
    commit_blob(staged, d);
    return d;
}

void Store::commit_blob(const std::string& tmp_path, std::string_view digest) {
    std::string dst = blob_path(digest);
    if (sys::exists_nofollow(dst)) {
        ::unlink(tmp_path.c_str());
        return;
    }
    if (::rename(tmp_path.c_str(), dst.c_str()) != 0) throw_sys("rename", tmp_path);
}

std::string Store::snapshot_dir(std::string_view chain_id) const {
    return root_ + "/snapshots/" + oi::digest_hex(chain_id);
}

bool Store::has_snapshot(std::string_view chain_id) const {
    return sys::exists_nofollow(snapshot_dir(chain_id) + "/fs");
}

std::string Store::stage_snapshot() const {
    std::string dir = tmp_dir() + "/" + sys::unique_name("snap-");
    if (::mkdir(dir.c_str(), 0700) != 0) throw_sys("mkdir", dir);
    if (::mkdir((dir + "/fs").c_str(), 0755) != 0) throw_sys("mkdir", dir + "/fs");
    return dir;
}

void Store::sync() const {
    UniqueFd fd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw_sys("open", root_);
    if (::syncfs(fd.get()) != 0) throw_sys("syncfs", root_);
}

void Store::commit_snapshot(const std::string& staged, std::string_view chain_id) {
    std::string dst = snapshot_dir(chain_id);
    if (::rename(staged.c_str(), dst.c_str()) != 0) {
        if (errno == EEXIST || errno == ENOTEMPTY) {  // another pull was first
            remove_tree(staged);
            return;
        }
        throw_sys("rename", staged);
    }
}

std::optional<UserRanges> Store::shifted_for() const {
    auto text = sys::read_file_if_exists(root_ + "/owner-ranges");
    if (!text) return std::nullopt;
    auto r = parse_ranges(*text);
    if (!r) throw Error(fmt::format("\"{}/owner-ranges\" is malformed", root_));
    return r;
}

void Store::shift_staged(const std::vector<std::string>& staged) {
    const auto& shift = owner_shift();
    if (staged.empty() || !shift) return;
    auto before = shifted_for();
    const RangeChange change = before ? range_change(*before, shift->ranges) : RangeChange::same;
    if (change == RangeChange::moved || change == RangeChange::overlap) {
        // Shifted for the new ranges, these layers' files would be of other ids than the
        // store's others (which newuidmap no longer maps for the user): they keep their
        // records. The CLI said so when it opened the store (ranges_moved) and what to run.
        log::debug(
            "layers staged in \"{}\" keep their owner records: the user's ranges are "
            "not owner-ranges'",
            tmp_dir());
        return;
    }
    if (userns_overlay() == UsernsOverlay::refused) {
        // roots are then copies the user makes, as the user: of files the user can read
        log::debug("layers keep their owner records: overlayfs in a user namespace is refused");
        return;
    }
    // the first shift, or the ranges grew in place: the files' owners hold for the new ones
    if (!before || change == RangeChange::grown) set_shifted_for(shift->ranges);
    std::vector<UniqueFd> held;
    std::vector<int> fds;
    held.reserve(staged.size());
    fds.reserve(staged.size());
    for (const auto& s : staged) {
        held.emplace_back(::open((s + "/fs").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!held.back()) throw_sys("open", s + "/fs");
        fds.push_back(held.back().get());
    }
    const uint32_t max_uid = max_container_id(shift->ranges.uids);
    const uint32_t max_gid = max_container_id(shift->ranges.gids);
    bool ran =
        with_context(fmt::format("give the layers staged in \"{}\" their owners", tmp_dir()), [&] {
            return shift->run(shift->ranges, [&](sys::RawError& e) {
                for (int fd : fds)
                    if (!apply_owner_records_raw(fd, max_uid, max_gid, e)) return false;
                return true;
            });
        });
    if (!ran)
        throw Error(fmt::format(
            "give the layers staged in \"{}\" their owners: newuidmap or "
            "newgidmap refused the uids {} and gids {} of /etc/subuid and "
            "/etc/subgid (husk --debug says why)",
            tmp_dir(), host_ranges(shift->ranges.uids), host_ranges(shift->ranges.gids)));
}

void Store::remove_tree(const std::string& path) const {
    remove_trees({path});
}

void Store::remove_trees(const std::vector<std::string>& paths) const {
    std::vector<std::string> refused;  // what the user may not remove: the range's files
    // another failure is thrown once the others are removed (the refused ones included)
    std::exception_ptr failed;
    for (const auto& path : paths) {
        try {
            sys::remove_all(path);
        } catch (const Error& e) {
            if ((e.code() != EACCES && e.code() != EPERM) || !owner_shift() || !shifted_for()) {
                if (!failed) failed = std::current_exception();
                continue;
            }
            refused.push_back(path);
        }
    }
    if (refused.empty()) {
        if (failed) std::rethrow_exception(failed);
        return;
    }
    // Files of the user's range (shifted snapshots): removed as the namespace's root, all
    // from one child (a namespace costs a fork and two newuidmap runs, ~40 ms). One fd for
    // each parent directory (they are mostly one: snapshots/).
    std::vector<UniqueFd> parents;
    std::map<std::string, size_t> parent_index;
    std::vector<std::pair<size_t, std::string>> entries;  // parent, name
    entries.reserve(refused.size());
    for (const auto& path : refused) {
        size_t slash = path.rfind('/');
        std::string dir = slash == 0 ? "/" : path.substr(0, slash);
        auto [it, added] = parent_index.try_emplace(dir, parents.size());
        if (added) {
            parents.emplace_back(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            if (!parents.back()) throw_sys("open", dir);
        }
        entries.emplace_back(it->second, path.substr(slash + 1));
    }
    const std::string what = refused.size() == 1
                                 ? fmt::format("remove \"{}\"", refused[0])
                                 : fmt::format("remove \"{}\" and {} more of \"{}\"", refused[0],
                                               refused.size() - 1, root_);
    auto ranges = *shifted_for();
    bool ran = with_context(what, [&] {
        return owner_shift()->run(ranges, [&](sys::RawError& e) {
            for (const auto& [parent, name] : entries)
                if (!sys::remove_tree_raw(parents[parent].get(), name.c_str(), e)) return false;
            return true;
        });
    });
    if (!ran)
        throw Error(fmt::format("{}: its files belong to the ids of owner-ranges, which "
                                "newuidmap no longer maps for the user (/etc/subuid changed): "
                                "give the user those ranges back, or have root remove it",
                                what),
                    EACCES);
    if (failed) std::rethrow_exception(failed);
}

void Store::ensure_snapshots(const Image& img, const UnpackLimits& limits) {
    // Every missing layer unpacked into staging (the layers below read from staging or
    // from their snapshot), then one syncfs, then the renames, bottom first, as a pull
    // does: a crash leaves no snapshot the store counts as complete with data missing.
    std::map<std::string, std::string> staged_of;  // chain id -> its staging directory
    std::vector<std::string> order;                // chain ids staged, bottom first
    sys::ScopeGuard drop([&]() noexcept {
        for (auto& [chain, staged] : staged_of) {
            try {
                remove_tree(staged);
            } catch (const std::exception&) {  // left in tmp/: the store's staging cleanup
            }
        }
    });
    auto fs_of = [&](const std::string& chain) {
        auto it = staged_of.find(chain);
        return (it != staged_of.end() ? it->second : snapshot_dir(chain)) + "/fs";
    };
    for (size_t i = 0; i < img.chain_ids.size(); ++i) {
        const std::string& chain = img.chain_ids[i];
        if (staged_of.contains(chain) || has_snapshot(chain)) continue;
        const auto& layer = img.manifest.layers.at(i);
        std::string staged = stage_snapshot();
        staged_of[chain] = staged;
        UniqueFd blob(::open(blob_path(layer.digest).c_str(), O_RDONLY | O_CLOEXEC));
        if (!blob) throw_sys("open", blob_path(layer.digest));
        UniqueFd root(::open((staged + "/fs").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!root) throw_sys("open", staged + "/fs");
        auto lowers = [&] {  // the layers above this one's place: top first
            std::vector<UniqueFd> out;
            for (size_t j = i; j-- > 0;) {
                std::string dir = fs_of(img.chain_ids[j]);
                out.emplace_back(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
                if (!out.back()) throw_sys("open lower layer", dir);
            }
            return out;
        };
        UnpackResult r = with_context(fmt::format("unpack layer {}", layer.digest), [&] {
            return unpack_layer(blob.get(), root.get(), limits, nullptr, lowers);
        });
        if (r.diff_id != img.config.diff_ids.at(i))
            throw Error(
                fmt::format("layer {}: uncompressed digest {} does not match {} of the "
                            "image config",
                            layer.digest, r.diff_id, img.config.diff_ids[i]));
        sys::write_file_atomic(staged + "/size", std::to_string(r.file_bytes), 0644, false);
        order.push_back(chain);
    }
    if (order.empty()) return;
    std::vector<std::string> staged;
    staged.reserve(order.size());
    for (auto& chain : order) staged.push_back(staged_of.at(chain));
    shift_staged(staged);
    sync();
    for (auto& chain : order) {
        commit_snapshot(staged_of.at(chain), chain);
        staged_of.erase(chain);
    }
}

std::vector<ImageRecord> Store::records() const {
    std::string text = sys::read_file(root_ + "/index.json");
    oi::Index idx = with_context(fmt::format("\"{}/index.json\"", root_),
                                 [&] { return oi::parse_index(text); });
    std::vector<ImageRecord> out;
    for (auto& d : idx.manifests) {
        ImageRecord r;
        r.manifest = d;
        if (auto it = d.annotations.find(std::string(oi::kRefNameAnnotation));
            it != d.annotations.end())
            r.name = it->second;
        if (auto it = d.annotations.find(std::string(kRepoDigestAnnotation));
            it != d.annotations.end())
            r.repo_digest = it->second;
        out.push_back(std::move(r));
    }
    return out;
}

namespace {
void write_index(const std::string& root, const std::vector<ImageRecord>& recs) {
    oi::Index idx;
    idx.media_type = std::string(oi::media::kOciIndex);
    for (auto& r : recs) {
        oi::Descriptor d = r.manifest;
        // An unnamed record carries no name, even one its descriptor came with.
        if (r.name.empty())
            d.annotations.erase(std::string(oi::kRefNameAnnotation));
        else
            d.annotations[std::string(oi::kRefNameAnnotation)] = r.name;
        if (!r.repo_digest.empty())
            d.annotations[std::string(kRepoDigestAnnotation)] = r.repo_digest;
        idx.manifests.push_back(std::move(d));
    }
    sys::write_file_atomic(root + "/index.json", oi::dump_index(idx), 0644, true);
}
}  // namespace

void Store::add_records(const std::vector<ImageRecord>& add) {
    sys::FileLock lk(root_ + "/index.lock", sys::FileLock::exclusive);
    auto recs = records();
    for (auto& a : add) {
        auto same = [&](const ImageRecord& r) {
            return a.name.empty() ? (r.name.empty() && r.manifest.digest == a.manifest.digest)
                                  : r.name == a.name;
        };
        recs.erase(std::remove_if(recs.begin(), recs.end(), same), recs.end());
        recs.push_back(a);
    }
    write_index(root_, recs);
}

Image Store::add_image(std::string_view config_json, const std::vector<oi::Descriptor>& layers,
                       const std::vector<std::string>& names, bool intermediate) {
    for (auto& l : layers)
        if (!has_blob(l.digest))
            throw Error(fmt::format("add image: layer {} is not in the store", l.digest));
    oi::Manifest m;
    m.media_type = std::string(oi::media::kOciManifest);
    m.config = {std::string(oi::media::kOciConfig),
                write_blob(config_json),
                static_cast<int64_t>(config_json.size()),
                {},
                {},
                {}};
    m.layers = layers;
    std::string body = oi::dump_manifest(m);
    ImageRecord rec;
    rec.manifest = {std::string(oi::media::kOciManifest),
                    write_blob(body),
                    static_cast<int64_t>(body.size()),
                    {},
                    {},
                    {}};
    std::vector<ImageRecord> recs;
    for (auto& n : names) {
        recs.push_back(rec);
        recs.back().name = n;
    }
    if (names.empty()) {
        if (intermediate) rec.manifest.annotations[std::string(kIntermediateAnnotation)] = "true";
        recs.push_back(rec);
    }
    add_records(recs);
    return load_image(recs.front());
}

size_t Store::remove_records(const std::function<bool(const ImageRecord&)>& pred) {
    sys::FileLock lk(root_ + "/index.lock", sys::FileLock::exclusive);
    auto recs = records();
    size_t before = recs.size();
    recs.erase(std::remove_if(recs.begin(), recs.end(), pred), recs.end());
    if (recs.size() != before) write_index(root_, recs);
    return before - recs.size();
}

Image Store::load_image(const ImageRecord& rec) const {
    return with_context(
        fmt::format("image {}", rec.name.empty() ? rec.manifest.digest : rec.name), [&] {
            Image img;
            if (!rec.name.empty()) img.names.push_back(rec.name);
            img.repo_digest = rec.repo_digest;
            img.manifest_digest = rec.manifest.digest;
            if (!rec.repo_digest.empty() && rec.repo_digest != rec.manifest.digest &&
                rec.repo_digest.starts_with("sha256:") && has_blob(rec.repo_digest)) {
                std::string body = read_blob(rec.repo_digest);
                if (oi::classify_manifest("", body) == oi::ManifestKind::index) {
                    img.index_digest = rec.repo_digest;
                    oi::Index idx = oi::parse_index(body);
                    img.index_media_type =
                        idx.media_type.empty() ? std::string(oi::media::kOciIndex) : idx.media_type;
                }
            }
            img.manifest = oi::parse_manifest(read_blob(rec.manifest.digest));
            img.id = img.manifest.config.digest;
            img.config_json = read_blob(img.id);
            img.config = oi::parse_image_config(img.config_json);
            if (img.config.diff_ids.size() != img.manifest.layers.size())
                throw Error(fmt::format("the config lists {} layers, the manifest {}",
                                        img.config.diff_ids.size(), img.manifest.layers.size()));
            img.chain_ids = chain_ids(img.config.diff_ids);
            img.intermediate = rec.name.empty() && rec.manifest.annotations.contains(
                                                       std::string(kIntermediateAnnotation));
            return img;
        });
}

std::vector<Image> Store::images() const {
    std::vector<Image> out;
    for (auto& r : records()) {
        auto it = std::find_if(out.begin(), out.end(), [&](const Image& i) {
            return i.manifest_digest == r.manifest.digest;
        });
        if (it != out.end()) {
            if (!r.name.empty()) it->names.push_back(r.name);
            if (!r.manifest.annotations.contains(std::string(kIntermediateAnnotation)))
                it->intermediate = false;
            // a build's step entry comes first, the index naming the image after it
            if (it->repo_digest.empty() && !r.repo_digest.empty()) try {
                    Image named = load_image(r);
                    it->repo_digest = named.repo_digest;
                    it->index_digest = named.index_digest;
                    it->index_media_type = named.index_media_type;
                } catch (const std::exception& e) {
                    log::warn("{}", e.what());
                }
            continue;
        }
        try {
            out.push_back(load_image(r));
        } catch (const std::exception& e) {
            log::warn("{}", e.what());
        }
    }
    return out;
}

Image Store::resolve(std::string_view ref) const {
    auto recs = records();
    // A full or short name.
    std::string wanted;
    try {
        wanted = oi::parse_reference(ref).str();
    } catch (const Error&) {
    }
    if (!wanted.empty()) {
        for (auto& r : recs)
            if (r.name == wanted) {
                Image img = load_image(r);
                img.names.clear();
                for (auto& o : recs)
                    if (o.manifest.digest == r.manifest.digest && !o.name.empty())
                        img.names.push_back(o.name);
                return img;
            }
    }
    // An image id (prefix, with or without "sha256:") or a manifest digest.
    std::string hex(ref.starts_with("sha256:") ? ref.substr(7) : ref);
    if (hex.size() >= 4 && std::all_of(hex.begin(), hex.end(), [](char c) {
            return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        })) {
        // One image may be stored under several manifests (loaded from a docker-archive
        // and from an OCI archive): the same config is the same image.
        std::vector<Image> found;
        auto match = [&](const std::vector<Image>& images) {
            for (auto& img : images) {
                if (img.id.compare(7, hex.size(), hex) != 0 &&
                    img.manifest_digest.compare(7, hex.size(), hex) != 0)
                    continue;
                auto same = std::find_if(found.begin(), found.end(),
                                         [&](const Image& f) { return f.id == img.id; });
                if (same == found.end())
                    found.push_back(img);
                else
                    same->names.insert(same->names.end(), img.names.begin(), img.names.end());
            }
        };
        std::vector<Image> all = images();
        match(all);
        // else the other platforms of the indexes they came as (derived, not recorded):
        // only then, as reading each index costs every start that resolves by id
        if (found.empty()) {
            std::vector<Image> derived;
            std::set<std::string> indexes;
            for (auto& img : all) {
                if (img.index_digest.empty() || !indexes.insert(img.index_digest).second) continue;
                for (auto& held : held_platforms(*this, img)) {
                    if (held.manifest_digest == img.manifest_digest) continue;
                    held.names.clear();
                    derived.push_back(std::move(held));
                }
            }
            match(derived);
        }
        if (found.size() == 1) return found[0];
        if (found.size() > 1)
            throw Error(fmt::format("image id \"{}\" is ambiguous: {} different images match", ref,
                                    found.size()));
    }
    throw Error(fmt::format("image \"{}\" not known: pull it first", ref));
}

Store::PruneResult Store::prune() {
    auto lk = lock_exclusive();
    PruneResult res;
    std::set<std::string> blobs, snaps;
    auto keep_image = [&](const Image& img) {
        blobs.insert(img.manifest_digest.substr(7));
        blobs.insert(img.id.substr(7));
        for (auto& l : img.manifest.layers) blobs.insert(l.digest.substr(7));
        for (auto& c : img.chain_ids) snaps.insert(c.substr(7));
    };
    for (auto& r : records()) {
        blobs.insert(r.manifest.digest.substr(7));
        try {
            Image img = load_image(r);
            keep_image(img);  // kept even when its index cannot be read below
            // and every platform of its index the store holds, recorded or not
            for (auto& held : held_platforms(*this, img)) keep_image(held);
        } catch (const std::exception& e) {
            log::warn("prune: {}", e.what());
        }
        if (!r.repo_digest.empty() && r.repo_digest.starts_with("sha256:"))
            blobs.insert(r.repo_digest.substr(7));
    }
    for (auto& cid : list_dir(root_ + "/rootfs")) {
        auto layers = sys::read_file_if_exists(root_ + "/rootfs/" + cid + "/layers.json");
        if (!layers) continue;
        try {
            for (auto& c : json::parse(*layers)) snaps.insert(c.get<std::string>().substr(7));
        } catch (const json::exception&) {
        }
    }
    for (auto& m : list_dir(root_ + "/mounts")) {
        // a mounted image keeps its layers: its id is the config blob
        for (auto& r : records()) {
            try {
                Image img = load_image(r);
                if (img.id.substr(7) == m) keep_image(img);
            } catch (const std::exception&) {
            }
        }
    }
    for (auto& b : list_dir(root_ + "/blobs/sha256")) {
        if (blobs.count(b)) continue;
        std::string p = root_ + "/blobs/sha256/" + b;
        struct stat st {};
        if (::lstat(p.c_str(), &st) == 0) res.bytes += static_cast<uint64_t>(st.st_size);
        if (::unlink(p.c_str()) == 0) ++res.blobs;
    }
    std::vector<std::string> trees;  // removed together: one user namespace for all
    for (auto& s : list_dir(root_ + "/snapshots")) {
        if (snaps.count(s)) continue;
        std::string p = root_ + "/snapshots/" + s;
        if (auto sz = sys::read_file_if_exists(p + "/size")) res.bytes += std::stoull(*sz);
        trees.push_back(p);
        ++res.snapshots;
    }
    for (auto& t : list_dir(tmp_dir())) trees.push_back(tmp_dir() + "/" + t);
    remove_trees(trees);
    return res;
}

}  // namespace husk::image
