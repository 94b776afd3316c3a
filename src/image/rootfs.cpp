// The snapshot/rootfs step of the pipeline: a container's root filesystem made from an
// image's snapshots, and the read-only roots of `husk image mount`.
//
//   rootfs/<container id>/{upper,work,merged}   overlayfs over the snapshots, or a copy
//   rootfs/<container id>/lower<N>               idmapped lower layers (user namespaces)
//   rootfs/<container id>/{image,layers.json,mode}  what it was made from and how
//   mounts/<image id hex>/{merged,mode}          a read-only image root
//
// The Store's container-root and image-mount members live in rootfs.cpp; the copying
// fallback (whiteouts and opaque directories applied by hand, owners shifted for a
// user-namespaced root) in snapshot_copy.cpp.
#include "image/store.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "image/idmap.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/log.h"
#include "sys/mount_api.h"
#include "sys/user_dirs.h"

namespace husk::image {
namespace {

using json = nlohmann::json;
using sys::list_dir;
using sys::UniqueFd;

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
    UniqueFd fs(sys::open_filesystem("overlay"));
    if (fs) {
        bool ok = true;
        for (auto& l : lowers)
            ok = ok && sys::set_filesystem_option(fs.get(), "lowerdir+", l.c_str()) == 0;
        if (ok && !upper.empty())
            ok = sys::set_filesystem_option(fs.get(), "upperdir", upper.c_str()) == 0 &&
                 sys::set_filesystem_option(fs.get(), "workdir", work.c_str()) == 0;
        if (ok) {
            UniqueFd mnt(
                sys::create_filesystem_mount(fs.get(), upper.empty() ? MOUNT_ATTR_RDONLY : 0));
            if (mnt && sys::attach_mount_at(mnt.get(), target.c_str()) == 0) return true;
        }
    }
    std::string data = "lowerdir=";
    for (size_t i = 0; i < lowers.size(); ++i) data += (i ? ":" : "") + lowers[i];
    if (!upper.empty()) data += ",upperdir=" + upper + ",workdir=" + work;
    return ::mount("overlay", target.c_str(), "overlay", upper.empty() ? MS_RDONLY : 0,
                   data.c_str()) == 0;
}

// rootfs/<cid> made, with what it is made from (image, layers.json); removed on failure.
std::string make_root_dir(const std::string& root, std::string_view cid, const Image& img) {
    std::string dir = fmt::format("{}/rootfs/{}", root, cid);
    sys::mkdir_all(root + "/rootfs", 0700);
    if (::mkdir(dir.c_str(), 0700) != 0) throw_sys("mkdir", dir);
    try {
        sys::write_file_atomic(dir + "/image", img.id + "\n", 0644, false);
        json layers = img.chain_ids;
        sys::write_file_atomic(dir + "/layers.json", layers.dump(), 0644, false);
    } catch (...) {
        sys::remove_all(dir);
        throw;
    }
    return dir;
}

// The layers, upper and work directories of a container root mounted in a user namespace.
OverlayDirs userns_overlay_dirs(const Store& s, const Image& img, const std::string& dir) {
    OverlayDirs d;
    d.lowers = lowerdirs(s, img, dir + "/empty");
    d.upper = dir + "/upper";
    d.work = dir + "/work";
    return d;
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

std::string Store::prepare_rootfs(std::string_view image, std::string_view cid,
                                  std::optional<IdShift> shift) {
    if (!valid_container_id(cid)) throw Error(fmt::format("invalid container id \"{}\"", cid));
    return with_context(fmt::format("prepare root of container {}", cid), [&] {
        auto lk = lock_shared();
        Image img = resolve(image);
        ensure_snapshots(img);
        std::string dir = make_root_dir(root_, cid, img);
        try {
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

namespace {

// A probe's answer kept in `cache`: "<key> <answer> <why>", probed again when the key
// (the kernel release, and fuse-overlayfs' path) changed. nullopt: not known yet.
template <size_t N>
std::optional<size_t> cached_answer(const std::string& cache, const std::string& key,
                                    const std::array<std::string_view, N>& names,
                                    std::string* why) {
    auto text = sys::read_file_if_exists(cache);
    if (!text || !text->starts_with(key + " ")) return std::nullopt;
    std::string_view t = *text;
    t.remove_prefix(key.size() + 1);
    std::string_view answer = t.substr(0, t.find_first_of(" \n"));
    for (size_t i = 0; i < names.size(); ++i) {
        if (answer != names[i]) continue;
        if (why != nullptr && answer.size() < t.size())
            *why = std::string(t.substr(answer.size() + 1, t.find('\n') - answer.size() - 1));
        return i;
    }
    return std::nullopt;
}

}  // namespace

namespace {

// A user-namespaced root's `mode` file: the kernel's overlayfs, or fuse-overlayfs' (whose
// upper directory has its own ways: they are not mounted one for the other).
constexpr std::string_view kKernelMode = "overlay-userns\n", kFuseMode = "fuse-overlayfs-userns\n";
std::string mode_of(UsernsOverlay how) {
    return std::string(how == UsernsOverlay::fuse ? kFuseMode : kKernelMode);
}

}  // namespace

UsernsOverlay Store::userns_overlay(std::string* why) {
    struct utsname u {};
    ::uname(&u);
    const std::string release = u.release;
    constexpr std::array<std::string_view, 3> kNames = {"refused", "lowerdir", "lowerdir+"};
    std::string cache = root_ + "/userns-overlay";
    std::string reason;
    UsernsOverlay how = UsernsOverlay::refused;
    if (auto i = cached_answer(cache, release, kNames, &reason)) {
        how = static_cast<UsernsOverlay>(*i);
    } else {
        auto lk = lock_shared();  // its scratch in tmp/ is staging: not stale while we probe
        how = probe_userns_overlay(
            fmt::format("{}/{}", tmp_dir(), sys::unique_name("userns-overlay-")), reason);
        sys::write_file_atomic(
            cache, fmt::format("{} {} {}\n", release, kNames.at(static_cast<size_t>(how)), reason),
            0644, false);
    }
    if (how == UsernsOverlay::refused) {
        // Where the kernel refuses, fuse-overlayfs (a FUSE server per root) if it works:
        // its own answer in userns-fuse-overlay, for this kernel and this fuse-overlayfs.
        constexpr std::array<std::string_view, 2> kFuse = {"refused", "fuse-overlayfs"};
        std::string fuse_cache = root_ + "/userns-fuse-overlay";
        std::string key = release + " " + sys::find_on_path("fuse-overlayfs");
        std::string fuse_why;
        std::optional<size_t> f = cached_answer(fuse_cache, key, kFuse, &fuse_why);
        if (!f) {
            auto lk = lock_shared();
            f = probe_fuse_overlay(
                    fmt::format("{}/{}", tmp_dir(), sys::unique_name("userns-fuse-overlay-")),
                    fuse_why) == UsernsOverlay::fuse
                    ? 1
                    : 0;
            sys::write_file_atomic(
                fuse_cache, fmt::format("{} {} {}\n", key, kFuse.at(*f), fuse_why), 0644, false);
        }
        if (*f == 1)
            how = UsernsOverlay::fuse;
        else
            reason += "; fuse-overlayfs: " + fuse_why;
    }
    if (why != nullptr) *why = reason;
    return how;
}

Store::UsernsRoot Store::prepare_userns_rootfs(std::string_view image, std::string_view cid) {
    std::string why;
    UsernsOverlay how = userns_overlay(&why);
    UsernsRoot out;
    if (how != UsernsOverlay::refused) {
        Image img = resolve(image);
        std::string dir = fmt::format("{}/rootfs/{}", root_, cid);
        OverlayDirs d = userns_overlay_dirs(*this, img, dir);
        std::string lowers = fmt::format("{}", fmt::join(d.lowers, ":"));
        constexpr size_t kFsconfigValueMax = 255;  // one fsconfig value: lowerdir= must fit
        if (how == UsernsOverlay::lowerdir && lowers.size() > kFsconfigValueMax) {
            why = fmt::format("{} layers do not fit in one lowerdir option (Linux < 6.8)",
                              d.lowers.size());
        } else {
            return with_context(fmt::format("prepare root of container {}", cid), [&] {
                if (!valid_container_id(cid))
                    throw Error(fmt::format("invalid container id \"{}\"", cid));
                auto lk = lock_shared();
                ensure_snapshots(img);
                make_root_dir(root_, cid, img);
                try {
                    for (auto* sub : {"/merged", "/upper", "/empty"})
                        sys::mkdir_all(dir + sub, 0755);
                    sys::mkdir_all(d.work, 0700);
                    sys::write_file_atomic(dir + "/mode", mode_of(how), 0644, false);
                } catch (...) {
                    sys::remove_all(dir);
                    throw;
                }
                out.path = dir + "/merged";
                if (how == UsernsOverlay::fuse) {
                    out.type = "fuse-overlayfs";
                    out.overlay = fuse_overlay_options(d);
                } else {
                    out.type = "overlay";
                    out.overlay = {"userxattr", "lowerdir=" + lowers, "upperdir=" + d.upper,
                                   "workdir=" + d.work};
                }
                return out;
            });
        }
    }
    out.note = fmt::format(
        "husk: note: overlayfs in a user namespace is refused here ({}): the container's "
        "root is a copy of the image's layers",
        why);
    out.path = prepare_rootfs(image, cid);
    return out;
}

bool Store::userns_overlay_rootfs(std::string_view cid) const {
    if (!valid_container_id(cid)) throw Error(fmt::format("invalid container id \"{}\"", cid));
    auto mode = sys::read_file_if_exists(fmt::format("{}/rootfs/{}/mode", root_, cid));
    return mode == kKernelMode || mode == kFuseMode;
}

bool Store::fuse_overlay_rootfs(std::string_view cid) const {
    if (!valid_container_id(cid)) throw Error(fmt::format("invalid container id \"{}\"", cid));
    return sys::read_file_if_exists(fmt::format("{}/rootfs/{}/mode", root_, cid)) == kFuseMode;
}

sys::UniqueFd Store::open_userns_rootfs(std::string_view cid, bool here) {
    if (!valid_container_id(cid)) throw Error(fmt::format("invalid container id \"{}\"", cid));
    std::string dir = fmt::format("{}/rootfs/{}", root_, cid);
    auto mode = sys::read_file_if_exists(dir + "/mode");
    if (!mode) return {};
    if (*mode == "copy\n") {
        UniqueFd fd(::open((dir + "/merged").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!fd) throw_sys("open", dir + "/merged");
        return fd;
    }
    if (*mode != kKernelMode && *mode != kFuseMode) return {};
    auto image = sys::read_file_if_exists(dir + "/image");
    if (!image) throw Error(fmt::format("{}/image: missing", dir));
    Image img = resolve(image->substr(0, image->find('\n')));
    return with_context(fmt::format("open root of container {}", cid), [&] {
        OverlayDirs d = userns_overlay_dirs(*this, img, dir);
        UsernsOverlay how = *mode == kFuseMode ? UsernsOverlay::fuse : userns_overlay();
        if (how == UsernsOverlay::fuse && *mode != kFuseMode)
            throw Error(
                "overlayfs in a user namespace is refused now (the kernel changed): this "
                "root was made for it");
        return here ? userns_overlay_mount_here(d, how) : userns_overlay_mount(d, how);
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
    // overlay-userns: mounted by the container's init, in its own user namespace
    if (!mode || *mode == "copy\n" || *mode == kKernelMode || *mode == kFuseMode ||
        is_mountpoint(merged))
        return merged;
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
    // A user's mount is seen only in a user namespace of the user's own, and the layers'
    // files of the user's subordinate ids are not the user's to read: as podman refuses
    // `image mount` to a user outside `podman unshare`, with nothing made.
    if (sys::rootless())
        throw Error(
            "cannot mount an image as a user (rootless): a user's mount is seen only in a user "
            "namespace of its own (podman requires podman unshare, which husk has not): use a "
            "container of it (husk run, husk cp, husk export)",
            EPERM);
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

}  // namespace husk::image
