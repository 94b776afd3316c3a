// Mounts, both halves: the parent resolves the root, parses every mount's options and
// makes what the init no longer could (idmapped binds); the init mounts them inside the
// root by fd, pivots, then masks and seals paths.
#pragma once

#include <string>
#include <vector>

#include "oci/spec.h"
#include "runtime/cgroup/layout.h"
#include "runtime/mount_options.h"
#include "runtime/plan.h"
#include "sys/fd.h"

namespace husk::runtime {

// `path` made absolute against `base` (the bundle) when it is relative.
std::string absolute_in(const std::string& base, const std::string& path);

// root.path resolved (it must be a directory) and root.readonly.
void plan_root(const oci::Root& root, const std::string& bundle, Plan& p);

// A container without a mount namespace of its own: runc and crun run it, making the
// mounts in the runtime's mount namespace (where they outlive the container), so we do
// too, with a warning. Masking paths there would mask them for the host: refused, as runc.
void check_without_mount_ns(const oci::Spec& spec, const std::string& rootfs);

// spec.mounts (the /dev symlinks too when /dev is not bound), the root's propagation,
// masked and read-only paths. `cgroup_dirs`: the container's cgroup directories on the
// host; `host_cgroups`: the host's cgroup mounts; `own_netns`: a new
// network namespace; `all_ns`: every namespace of the container. Returns whether /dev is bound
// (then the default devices are not made).
bool plan_mounts(const oci::Spec& spec, const std::string& bundle,
                 const std::vector<std::string>& cgroup_dirs,
                 const std::vector<cgroup::CgroupMount>& host_cgroups, bool own_netns,
                 unsigned long all_ns, Plan& p);

// A detached copy of `source` (its whole tree when `recursive`) idmapped through
// `userns_fd` (its submounts too when `idmap_recursive`), with `opts` attributes set.
// Made by the parent: the init, once in its own user namespace, may no longer idmap a
// host filesystem; it only attaches the result (move_mount).
sys::UniqueFd open_idmapped_tree(const std::string& source, const MountOptions& opts,
                                 int userns_fd);

// Child side (no allocation, no throw); each reports a failure and _exits.
void init_rootfs(const Plan& plan) noexcept;       // mounts, devices, pivot_root (or chroot)
void init_after_pivot(const Plan& plan) noexcept;  // masks, read-only paths, root ro

}  // namespace husk::runtime
