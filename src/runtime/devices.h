// Devices, both halves: the parent decides which nodes the container gets (the default
// ones unless /dev is bound from the host, then linux.devices) and the device cgroup
// rules every container needs; the init makes the nodes, or binds the host's where a
// user namespace may not mknod.
#pragma once

#include <optional>

#include "oci/spec.h"
#include "runtime/plan.h"

namespace husk::runtime {

// linux.resources with the device rules every container needs appended, as runc
// does: mknod of any node, the default devices, /dev/pts/*, /dev/ptmx, /dev/net/tun.
// Not the devices of linux.devices: they are made, and usable only where
// linux.resources.devices allows them. Null when the config has no resources.
std::optional<oci::Resources> effective_resources(const oci::Spec& spec);

// The default devices (unless `dev_bound`: a bind mount on /dev) and linux.devices.
// `rootless` (runc's: a user, or root of a user namespace we run in) binds the host's nodes
// as a user namespace of the container's does: mknod needs the host's root.
void plan_devices(const oci::Spec& spec, bool dev_bound, bool rootless, Plan& p);

// Child side: make p.devices under the root `rootfd`. Reports failures and _exits.
void make_devices(const Plan& p, int rootfd) noexcept;

}  // namespace husk::runtime
