// `husk` run by an ordinary user (issue 17): every container gets a user namespace whose
// root is the user; with a range of the user in /etc/subuid and /etc/subgid, container
// ids 1..N map to that range (written by newuidmap/newgidmap, package uidmap), as podman
// does; without one, the user alone (a note says so).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "image/store.h"
#include "oci/spec.h"
#include "sys/error.h"
#include "sys/raw_tree.h"

namespace husk::engine {

struct RootlessMaps {
    std::vector<oci::IdMapping> uids, gids;
    std::string note;  // one line for stderr when there is no range, else empty
};

// The maps for a container of the user running us, from the subid files' text (for
// tests) and whether the helpers exist; throws naming the file to fix.
RootlessMaps rootless_maps(const std::string& user, uint32_t uid, uint32_t gid,
                           const std::string& subuid, const std::string& subgid,
                           bool helpers_present);
// The same for this process: /etc/subuid, /etc/subgid, /usr/bin/newuidmap.
RootlessMaps rootless_maps();

// `fn`'s answer, run in a child process in a new user namespace with the maps `uids` and
// `gids` (container -> host, as a container's record has them; newuidmap/newgidmap write
// them), where this process's user is root over every id they map: what a user's
// container wrote owned by its other ids (its /etc/subuid range) and not readable by the
// user (a 0600 file, a 0700 directory) is read as the container's root reads it, and
// stat gives the container's ids. The child only computes: it writes no state of ours
// but what `fn` writes. `fn`'s exception comes back as an Error with its message.
// nullopt, `fn` not run, when the namespace cannot have those maps (newuidmap refuses a
// range /etc/subuid no longer gives the user): the reason is logged (debug).
// `join`: instead, the user namespace of that running process of the user's (a running
// container's init, whose root may be a FUSE mount, which serves no other namespace).
std::optional<std::string> in_container_userns(const std::vector<oci::IdMapping>& uids,
                                               const std::vector<oci::IdMapping>& gids,
                                               const std::function<std::string()>& fn,
                                               pid_t join = 0);

// `fn` run as in_container_userns, but between fork and _exit: system calls only, no
// allocation (sys/raw_tree.h), so a threaded process (a pull) may call it. False, `fn`
// not run, when the namespace cannot have the maps (logged, debug); throws fn's failure,
// naming its step and path.
bool in_userns_raw(const std::vector<oci::IdMapping>& uids, const std::vector<oci::IdMapping>& gids,
                   const std::function<bool(sys::RawError&)>& fn);

// Rootless with a range, the image store gives its snapshots their owners in the user's
// range (image/owner_shift.h) through in_userns_raw with these maps: given to the store
// once, asked for when it first unpacks or removes a layer (as root, or for a user
// without a range, the store shifts nothing).
void provide_owner_shift();

// Whether `e` is a refusal for want of permission (EACCES, EPERM): what the ids of a
// user's container keep from the user, which in_container_userns reaches.
bool permission_denied(const Error& e);

// `fn(false)` as this process's user; where that is refused for want of permission (a
// user's container keeps files of its other ids from the user), `fn(true)` in a user
// namespace with the container's maps `uids`/`gids` (in_container_userns), and its answer;
// where that namespace cannot have those maps, the first refusal. As root or without maps,
// `fn(false)` alone. As the user first: most roots hold nothing of the kind, and the
// namespace costs a fork and two newuidmap runs (~40 ms).
std::string as_user_or_container_root(const std::vector<oci::IdMapping>& uids,
                                      const std::vector<oci::IdMapping>& gids,
                                      const std::function<std::string(bool)>& fn);

// The store's release_rootfs of the root `root_id` a user namespace with the maps
// `uids`/`gids` wrote (a user's container or build step). Where the user may not remove
// what the root's other ids keep from the user (a 0700 directory of its uid 1, in the
// user's /etc/subuid range), what is left of it (upper, work, a copied root's merged; never
// a mount) is removed from a namespace with those maps, where the user is root over them,
// and the release done again; where that namespace cannot have them, the refusal.
void release_userns_rootfs(image::Store& store, const std::string& root_id,
                           const std::vector<oci::IdMapping>& uids,
                           const std::vector<oci::IdMapping>& gids);

// Mount options naming an id the container's maps do not hold (devpts' gid=5 where only
// root is mapped) are refused by the kernel: dropped, as runc's spec --rootless does.
void drop_unmapped_mount_ids(oci::Spec& spec);

}  // namespace husk::engine
