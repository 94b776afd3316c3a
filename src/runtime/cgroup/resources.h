// linux.resources applied to a container's cgroup: one backend per controller
// and cgroup version (v1/<ctrl>.cpp, v2/<ctrl>.cpp), chosen where the controller lives.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "oci/spec.h"

namespace husk::runtime::cgroup {

// Does `res` set anything the cgroup `controller` ("memory", "io", "cpu", ...) handles?
bool needs_controller(const oci::Resources& res, std::string_view controller);

// Enable `wanted` controllers in cgroup.subtree_control from the cgroup2 mount
// down to the parent of `dir` (a controller must be enabled in every ancestor).
// With `vacate`, the processes of a cgroup that must enable one are first moved to
// its child cgroup kLeaf (cgroup v2's "no internal processes" rule; systemd's
// delegation model, where the delegated cgroup's own processes go to a leaf).
void enable_v2(const std::string& mountpoint, const std::string& dir,
               const std::vector<std::string>& wanted, bool vacate = false);
inline constexpr std::string_view kLeaf = "leaf";

}  // namespace husk::runtime::cgroup
