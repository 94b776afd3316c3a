// The image store under a data root (default /var/lib/husk):
//
//   oci-layout, index.json, blobs/sha256/<hex>   an OCI image layout (skopeo `oci:`, umoci)
//   snapshots/<chain id hex>/fs                   one unpacked layer per chain id (overlayfs
//   format) rootfs/<container id>/{upper,work,merged}     container roots (overlayfs, or a copy)
//   mounts/<image id hex>                          `husk image mount` roots (read-only)
//   tmp/                                           staging; renamed into place when complete
//                                                  (what a killed pull or load left there is
//                                                  removed by the next store open that finds
//                                                  no pull or load running)
//
// index.json names images with org.opencontainers.image.ref.name = the full
// reference ("docker.io/library/alpine:latest"). Writes are atomic (temp + rename)
// and locked: pulls and loads hold store.lock shared, prune holds it exclusive;
// index.json is rewritten under index.lock.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/idshift.h"
#include "image/owner_shift.h"
#include "image/rootfs.h"
#include "image/unpack.h"
#include "image/userns_overlay.h"
#include "oci/image/types.h"
#include "sys/fileutil.h"

namespace husk::image {

// One entry of index.json.
struct ImageRecord {
    std::string name;  // full reference, or empty for an unnamed image
    oci::image::Descriptor manifest;
    std::string repo_digest;  // what the registry served for the name (index or manifest)
};

// An image resolved from the store.
struct Image {
    std::vector<std::string> names;
    std::string repo_digest;
    // The index (or manifest list) the image was pulled or loaded from, kept whole as the
    // registry served it (every platform's descriptor); empty for a plain manifest. Only
    // this image's platform has its manifest, config and layers in the store.
    std::string index_digest;
    std::string index_media_type;
    std::string manifest_digest;
    oci::image::Manifest manifest;
    std::string id;  // the config digest, "sha256:..."
    std::string config_json;
    oci::image::ImageConfig config;
    std::vector<std::string> chain_ids;
    // A build step's image (kept for the build cache), hidden from `husk images`.
    bool intermediate = false;
};

class Store {
  public:
    // Opens (creating when needed) the store at `root`.
    explicit Store(std::string root);

    const std::string& root() const { return root_; }
    std::string tmp_dir() const { return root_ + "/tmp"; }

    // Blobs
    std::string blob_path(std::string_view digest) const;
    bool has_blob(std::string_view digest) const;
    std::string read_blob(std::string_view digest) const;  // verified against the digest
    std::string write_blob(std::string_view data);         // returns the digest
    // Moves a complete, verified temp file into blobs/ (no-op when present).
    void commit_blob(const std::string& tmp_path, std::string_view digest);

    // Snapshots
    std::string snapshot_dir(std::string_view chain_id) const;  // .../snapshots/<hex>
    bool has_snapshot(std::string_view chain_id) const;
    // A fresh staging directory in tmp/ with an empty fs/ below it.
    std::string stage_snapshot() const;
    // Everything written to the store's filesystem on disk (syncfs(2)): a pull calls it
    // once before it commits what it staged, so a crash cannot leave a blob or snapshot
    // the store counts as complete with data missing, at one sync for the pull instead
    // of an fsync per file; ensure_snapshots once before its renames. Layer blobs a
    // commit, build step or load moves in are not synced (verified when read back).
    void sync() const;
    // Moves a staged snapshot into place (discarded when another pull was first).
    void commit_snapshot(const std::string& staged, std::string_view chain_id);
    // Rootless with a range of ids (image/owner_shift.h): the owner records of the staged
    // snapshots applied from one child in a user namespace with the user's maps, before
    // they are synced and renamed; the maps recorded in <root>/owner-ranges the first time.
    // When the user's ranges are not the recorded ones, a one-line warning and nothing
    // shifted (the files would be of other ids than the store's other snapshots'). No-op
    // as root, without a range, and where overlayfs in a user namespace is refused (the
    // user copies the layers for a root, as the user).
    void shift_staged(const std::vector<std::string>& staged);
    // The ranges the store's snapshots were shifted for; nullopt: none was.
    std::optional<UserRanges> shifted_for() const;
    // Records `r` as those ranges (`husk system migrate`, once the files have them).
    void set_shifted_for(const UserRanges& r);
    // As a user whose /etc/subuid and /etc/subgid ranges moved from those the store was
    // shifted for (image::range_change: moved or overlapping): one line naming the store, the
    // old and new ranges and what to run (`husk system migrate`); else nullopt. The CLI warns
    // with it when it opens the store.
    std::optional<std::string> ranges_moved() const;
    // Removes `path` (a snapshot, a staging directory) with everything below it; where the
    // user may not (what shift_staged gave the ids of the user's range), from a user
    // namespace with the recorded ranges.
    void remove_tree(const std::string& path) const;
    // The same for each of `paths`, those the user may not remove from one user namespace.
    void remove_trees(const std::vector<std::string>& paths) const;
    // Unpacks missing snapshots of `img` from its blobs.
    void ensure_snapshots(const Image& img, const UnpackLimits& limits = {});

    // Index
    std::vector<ImageRecord> records() const;
    // Adds or replaces (same name) entries; one atomic rewrite of index.json.
    void add_records(const std::vector<ImageRecord>& recs);
    // Removes the entries for which `pred` is true; returns how many.
    size_t remove_records(const std::function<bool(const ImageRecord&)>& pred);

    // A new image from its config and layers (blobs already in the store): writes the config
    // and an OCI manifest over them and adds one index entry per name in `names` (full
    // references), or one unnamed entry (marked intermediate when `intermediate`).
    Image add_image(std::string_view config_json, const std::vector<oci::image::Descriptor>& layers,
                    const std::vector<std::string>& names, bool intermediate = false);

    // "alpine", "docker.io/library/alpine:latest", an image id (prefix), or a manifest digest.
    Image resolve(std::string_view ref) const;
    Image load_image(const ImageRecord& rec) const;
    std::vector<Image> images() const;  // one per distinct manifest, names merged

    // Container roots (image/rootfs.cpp). Returns the path of the root filesystem.
    std::string prepare_rootfs(std::string_view image, std::string_view container_id,
                               std::optional<IdShift> shift = std::nullopt);
    // A rootless container's root (image/rootfs.cpp): overlayfs that the container's init
    // mounts inside its own user namespace (image/userns_overlay.h), where the kernel takes
    // it (tried once per data root and kernel, the answer kept in <root>/userns-overlay);
    // else fuse-overlayfs, served by its own process, where that works (the answer kept in
    // <root>/userns-fuse-overlay); else a copy of the layers, and `note` says why.
    struct UsernsRoot {
        std::string path;                  // root.path: merged, empty on the host
        std::string type;                  // of the mount on "/": overlay, fuse-overlayfs
        std::vector<std::string> overlay;  // the options of the mount on "/"; empty: a copy
        std::string note;                  // one line for stderr with the copy, else empty
    };
    UsernsRoot prepare_userns_rootfs(std::string_view image, std::string_view container_id);
    // The root prepared by prepare_userns_rootfs as this process can use it before the
    // container runs: the same overlay as a detached mount (from a user namespace of our
    // own), or the copy; null when the root is neither. `here`: the overlay mounted by this
    // process itself, which must be root in a user namespace of its own with the
    // container's maps (engine::in_container_userns's child), so that what is written
    // through it may be given any id the container has (userns_overlay_mount_here).
    sys::UniqueFd open_userns_rootfs(std::string_view container_id, bool here = false);
    // Whether the container's root is the overlay its init mounts in its user namespace
    // (prepare_userns_rootfs chose it): nothing is mounted for it on the host.
    bool userns_overlay_rootfs(std::string_view container_id) const;
    // ... and that overlay is fuse-overlayfs: a running container's root serves processes of
    // its user namespace only (FUSE's allow_other), not the user's outside it.
    bool fuse_overlay_rootfs(std::string_view container_id) const;
    // What the kernel takes here for those roots (probed once; see prepare_userns_rootfs).
    UsernsOverlay userns_overlay(std::string* why = nullptr);
    void release_rootfs(std::string_view container_id);
    // A container root whose overlay mount is gone (the host rebooted) mounted again on
    // its own upper directory, so its changes are kept; no-op when mounted or a copy.
    // Returns the path of the root filesystem.
    // (A user-namespaced root on idmapped layers is not: an error says so.)
    std::string remount_rootfs(std::string_view container_id);
    // Container ids whose root was prepared from image `id`.
    std::vector<std::string> rootfs_users(std::string_view id) const;

    // Read-only root of an image (overlayfs, else a copy; image/rootfs.cpp); returns its path.
    std::string mount_image(std::string_view image);
    // Returns false when the image was not mounted.
    bool unmount_image(std::string_view image);

    struct PruneResult {
        size_t blobs = 0;
        size_t snapshots = 0;
        uint64_t bytes = 0;
    };
    // Removes blobs and snapshots no image or container refers to, and stale temp files.
    PruneResult prune();

    sys::FileLock lock_shared() const {
        return sys::FileLock(root_ + "/store.lock", sys::FileLock::shared);
    }
    sys::FileLock lock_exclusive() const {
        return sys::FileLock(root_ + "/store.lock", sys::FileLock::exclusive);
    }

  private:
    void remove_stale_staging() const;

    std::string root_;
};

}  // namespace husk::image
