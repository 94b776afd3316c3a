#include "image/store.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "image/digest.h"
#include "image/idmap.h"
#include "oci/image/reference.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/log.h"

namespace husk::image {
namespace {

using json = nlohmann::json;
using sys::UniqueFd;
namespace oi = oci::image;

constexpr std::string_view kRepoDigestAnnotation = "io.husk.repo-digest";

using sys::list_dir;

bool is_mountpoint(const std::string& path) {
    struct statx a {
    }, b{};
    if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &a) != 0 ||
        ::statx(AT_FDCWD, (path + "/..").c_str(), 0, STATX_MNT_ID, &b) != 0)
        return false;
    return a.stx_mnt_id != b.stx_mnt_id;
}

// The lower layers of `img`, top first; `empty_dir` when it has none.
std::vector<std::string> lowerdirs(const Store& s, const Image& img, const std::string& empty_dir) {
    std::vector<std::string> out;
    for (auto it = img.chain_ids.rbegin(); it != img.chain_ids.rend(); ++it)
        out.push_back(s.snapshot_dir(*it) + "/fs");
    if (out.empty()) out.push_back(empty_dir);
    return out;
}

// Mounts overlayfs on `target`. The lower layers (top first) are handed over one by
// one ("lowerdir+", Linux >= 6.8), so any number of layers fits; older kernels get one
// mount(2) option string, which must fit in a page. No upper: read-only. Sets errno.
bool mount_overlay(const std::vector<std::string>& lowers, const std::string& upper,
                   const std::string& work, const std::string& target) {
    UniqueFd fs(::fsopen("overlay", FSOPEN_CLOEXEC));
    if (fs) {
        bool ok = true;
        for (auto& l : lowers)
            ok = ok && ::fsconfig(fs.get(), FSCONFIG_SET_STRING, "lowerdir+", l.c_str(), 0) == 0;
        if (ok && !upper.empty())
            ok = ::fsconfig(fs.get(), FSCONFIG_SET_STRING, "upperdir", upper.c_str(), 0) == 0 &&
                 ::fsconfig(fs.get(), FSCONFIG_SET_STRING, "workdir", work.c_str(), 0) == 0;
        if (ok && ::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) == 0) {
            UniqueFd mnt(
                ::fsmount(fs.get(), FSMOUNT_CLOEXEC, upper.empty() ? MOUNT_ATTR_RDONLY : 0));
            if (mnt &&
                ::move_mount(mnt.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) == 0)
                return true;
        }
    }
    std::string data = "lowerdir=";
    for (size_t i = 0; i < lowers.size(); ++i) data += (i ? ":" : "") + lowers[i];
    if (!upper.empty()) data += ",upperdir=" + upper + ",workdir=" + work;
    return ::mount("overlay", target.c_str(), "overlay", upper.empty() ? MS_RDONLY : 0,
                   data.c_str()) == 0;
}

bool valid_container_id(std::string_view id) {
    if (id.empty() || id.size() > 128) return false;
    return std::all_of(id.begin(), id.end(),
                       [](char c) {
                           return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                                  c == '-' || c == '.';
                       }) &&
           id != "." && id != "..";
}

// Unmounts a container root: the overlay, then its idmapped lower layers.
void unmount_root(const std::string& dir) {
    std::vector<std::string> targets = {dir + "/merged"};
    for (auto& n : list_dir(dir))
        if (n.starts_with("lower")) targets.push_back(fmt::format("{}/{}", dir, n));
    for (auto& t : targets)
        if (is_mountpoint(t) && ::umount2(t.c_str(), MNT_DETACH) != 0 && errno != EINVAL)
            throw_sys("umount", t);
}

// Overlayfs over idmapped lower layers (kernel >= 5.19): no copy, owners shifted by the
// mounts. False (and nothing left mounted) when the kernel or filesystem cannot.
bool try_idmapped_overlay(const Store& s, const Image& img, const std::string& dir,
                          const IdShift& shift) {
    try {
        auto ns = make_userns(shift);
        std::vector<std::string> lowers;
        for (size_t i = 0; i < img.chain_ids.size(); ++i) {
            std::string l = fmt::format("{}/lower{}", dir, i);
            sys::mkdir_all(l, 0755);
            idmapped_mount(s.snapshot_dir(img.chain_ids[i]) + "/fs", l, ns.get());
            lowers.insert(lowers.begin(), l);
        }
        if (lowers.empty()) {
            sys::mkdir_all(dir + "/empty", 0755);
            lowers.push_back(dir + "/empty");
        }
        sys::mkdir_all(dir + "/upper", 0755);
        sys::mkdir_all(dir + "/work", 0700);
        if (::chown((dir + "/upper").c_str(), shift.host_uid(0), shift.host_gid(0)) != 0)
            throw_sys("chown", dir + "/upper");
        std::string merged = dir + "/merged";
        if (!mount_overlay(lowers, dir + "/upper", dir + "/work", merged))
            throw_sys("mount overlay", merged);
        return true;
    } catch (const std::exception& e) {
        log::debug("idmapped overlay unavailable ({}); copying with shifted owners", e.what());
        unmount_root(dir);
        for (auto& n : list_dir(dir))
            if (n.starts_with("lower") || n == "upper" || n == "work" || n == "empty")
                sys::remove_all(fmt::format("{}/{}", dir, n));
        return false;
    }
}

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

// Every pull, load and unpack stages in tmp/ while holding store.lock shared: when the
// lock is free, what is in tmp/ belongs to no live process. Partial downloads stay, for
// the next pull of the layer to resume (prune removes them).
void Store::remove_stale_staging() const {
    auto idle = sys::FileLock::try_lock(root_ + "/store.lock", sys::FileLock::exclusive);
    if (!idle) return;
    for (auto& t : list_dir(tmp_dir())) {
        if (t.starts_with("partial-")) continue;
        try {
            sys::remove_all(tmp_dir() + "/" + t);
        } catch (const std::exception& e) {
            log::warn("stale staging: {}", e.what());
        }
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
    if (!has_blob(d)) sys::write_file_atomic(blob_path(d), data, 0644, true);
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

void Store::commit_snapshot(const std::string& staged, std::string_view chain_id) {
    std::string dst = snapshot_dir(chain_id);
    if (::rename(staged.c_str(), dst.c_str()) != 0) {
        if (errno == EEXIST || errno == ENOTEMPTY) {  // another pull was first
            sys::remove_all(staged);
            return;
        }
        throw_sys("rename", staged);
    }
}

void Store::ensure_snapshots(const Image& img, const UnpackLimits& limits) {
    for (size_t i = 0; i < img.chain_ids.size(); ++i) {
        const std::string& chain = img.chain_ids[i];
        if (has_snapshot(chain)) continue;
        const auto& layer = img.manifest.layers.at(i);
        std::string staged = stage_snapshot();
        try {
            UniqueFd blob(::open(blob_path(layer.digest).c_str(), O_RDONLY | O_CLOEXEC));
            if (!blob) throw_sys("open", blob_path(layer.digest));
            UniqueFd root(::open((staged + "/fs").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            if (!root) throw_sys("open", staged + "/fs");
            auto lowers = [&] {  // committed above, top first
                std::vector<UniqueFd> out;
                for (size_t j = i; j-- > 0;) {
                    std::string dir = snapshot_dir(img.chain_ids[j]) + "/fs";
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
            commit_snapshot(staged, chain);
        } catch (...) {
            sys::remove_all(staged);
            throw;
        }
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
        if (!r.name.empty()) d.annotations[std::string(oi::kRefNameAnnotation)] = r.name;
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
        for (auto& img : images()) {
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
        if (found.size() == 1) return found[0];
        if (found.size() > 1)
            throw Error(fmt::format("image id \"{}\" is ambiguous: {} different images match", ref,
                                    found.size()));
    }
    throw Error(fmt::format("image \"{}\" not known: pull it first", ref));
}

std::string Store::prepare_rootfs(std::string_view image, std::string_view cid,
                                  std::optional<IdShift> shift) {
    if (!valid_container_id(cid)) throw Error(fmt::format("invalid container id \"{}\"", cid));
    return with_context(fmt::format("prepare root of container {}", cid), [&] {
        auto lk = lock_shared();
        Image img = resolve(image);
        ensure_snapshots(img);
        std::string dir = root_ + "/rootfs/" + std::string(cid);
        sys::mkdir_all(root_ + "/rootfs", 0700);
        if (::mkdir(dir.c_str(), 0700) != 0) throw_sys("mkdir", dir);
        try {
            sys::write_file_atomic(dir + "/image", img.id + "\n", 0644, false);
            json layers = img.chain_ids;
            sys::write_file_atomic(dir + "/layers.json", layers.dump(), 0644, false);
            std::string merged = dir + "/merged";
            sys::mkdir_all(merged, 0755);
            if (shift) {
                if (try_idmapped_overlay(*this, img, dir, *shift)) {
                    sys::write_file_atomic(dir + "/mode", "overlay-idmapped\n", 0644, false);
                    return merged;
                }
            } else {
                sys::mkdir_all(dir + "/upper", 0755);
                sys::mkdir_all(dir + "/work", 0700);
                sys::mkdir_all(dir + "/empty", 0755);
                if (mount_overlay(lowerdirs(*this, img, dir + "/empty"), dir + "/upper",
                                  dir + "/work", merged)) {
                    sys::write_file_atomic(dir + "/mode", "overlay\n", 0644, false);
                    return merged;
                }
                log::debug("overlayfs unavailable for {} ({}); copying the layers", cid,
                           errno_name(errno));
            }
            for (auto& chain : img.chain_ids)
                apply_layer_copy(snapshot_dir(chain) + "/fs", merged, shift);
            if (shift) {
                // the root directory itself belongs to the container's root
                if (::chown(merged.c_str(), shift->host_uid(0), shift->host_gid(0)) != 0)
                    throw_sys("chown", merged);
            }
            sys::write_file_atomic(dir + "/mode", "copy\n", 0644, false);
            return merged;
        } catch (...) {
            unmount_root(dir);
            sys::remove_all(dir);
            throw;
        }
    });
}

void Store::release_rootfs(std::string_view cid) {
    if (!valid_container_id(cid)) throw Error(fmt::format("invalid container id \"{}\"", cid));
    std::string dir = root_ + "/rootfs/" + std::string(cid);
    if (!sys::exists_nofollow(dir)) return;
    unmount_root(dir);
    sys::remove_all(dir);
}

std::string Store::remount_rootfs(std::string_view cid) {
    if (!valid_container_id(cid)) throw Error(fmt::format("invalid container id \"{}\"", cid));
    std::string dir = root_ + "/rootfs/" + std::string(cid);
    std::string merged = dir + "/merged";
    auto mode = sys::read_file_if_exists(dir + "/mode");
    if (!mode || *mode == "copy\n" || is_mountpoint(merged)) return merged;
    return with_context(fmt::format("mount root of container {} again", cid), [&] {
        auto lk = lock_shared();
        auto image = sys::read_file_if_exists(dir + "/image");
        if (!image) throw Error(fmt::format("{}/image: missing", dir));
        Image img = resolve(image->substr(0, image->find('\n')));
        if (*mode == "overlay-idmapped")  // its idmapped lower layers are not redone (yet)
            throw Error("a user-namespaced root on idmapped layers cannot be mounted again");
        if (!mount_overlay(lowerdirs(*this, img, dir + "/empty"), dir + "/upper", dir + "/work",
                           merged)) {
            throw_sys("mount overlay", merged);
        }
        return merged;
    });
}

std::vector<std::string> Store::rootfs_users(std::string_view id) const {
    std::vector<std::string> out;
    for (auto& cid : list_dir(root_ + "/rootfs")) {
        auto img = sys::read_file_if_exists(root_ + "/rootfs/" + cid + "/image");
        if (img && img->substr(0, img->find('\n')) == id) out.push_back(cid);
    }
    return out;
}

std::string Store::mount_image(std::string_view image) {
    auto lk = lock_shared();
    Image img = resolve(image);
    ensure_snapshots(img);
    std::string dir = root_ + "/mounts/" + img.id.substr(7);
    sys::mkdir_all(root_ + "/mounts", 0700);
    if (sys::exists_nofollow(dir + "/mode")) return dir + "/merged";
    std::string staged = root_ + "/mounts/" + sys::unique_name(".tmp-");
    sys::mkdir_all(staged + "/merged", 0755);
    sys::mkdir_all(staged + "/empty", 0755);
    if (::rename(staged.c_str(), dir.c_str()) != 0) {
        int e = errno;
        sys::remove_all(staged);
        if (e == EEXIST || e == ENOTEMPTY) return dir + "/merged";  // mounted meanwhile
        throw_sys("rename", staged, e);
    }
    std::string merged = dir + "/merged";
    try {
        auto lowers = lowerdirs(*this, img, dir + "/empty");
        if (lowers.size() == 1) lowers.push_back(dir + "/empty");  // no upper: two at least
        if (mount_overlay(lowers, "", "", merged)) {
            sys::write_file_atomic(dir + "/mode", "overlay\n", 0644, false);
            return merged;
        }
        log::debug("overlayfs unavailable ({}); copying the layers", errno_name(errno));
        for (auto& chain : img.chain_ids)
            apply_layer_copy(snapshot_dir(chain) + "/fs", merged, std::nullopt);
        sys::write_file_atomic(dir + "/mode", "copy\n", 0644, false);
        return merged;
    } catch (...) {
        ::umount2(merged.c_str(), MNT_DETACH);
        sys::remove_all(dir);
        throw;
    }
}

bool Store::unmount_image(std::string_view image) {
    Image img = resolve(image);
    std::string dir = root_ + "/mounts/" + img.id.substr(7);
    if (!sys::exists_nofollow(dir)) return false;
    std::string merged = dir + "/merged";
    if (is_mountpoint(merged) && ::umount2(merged.c_str(), MNT_DETACH) != 0 && errno != EINVAL)
        throw_sys("umount", merged);
    sys::remove_all(dir);
    return true;
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
            keep_image(load_image(r));
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
    for (auto& s : list_dir(root_ + "/snapshots")) {
        if (snaps.count(s)) continue;
        std::string p = root_ + "/snapshots/" + s;
        if (auto sz = sys::read_file_if_exists(p + "/size")) res.bytes += std::stoull(*sz);
        sys::remove_all(p);
        ++res.snapshots;
    }
    for (auto& t : list_dir(tmp_dir())) sys::remove_all(tmp_dir() + "/" + t);
    return res;
}

}  // namespace husk::image
