// linux.resources applied to a container's cgroup: one backend per controller
// and cgroup version (v1/<ctrl>.cpp, v2/<ctrl>.cpp), chosen where the controller lives.
#pragma once

#include <string_view>

#include "oci/spec.h"

namespace husk::runtime::cgroup {

// Does `res` set anything the cgroup `controller` ("memory", "io", "cpu", ...) handles?
bool needs_controller(const oci::Resources& res, std::string_view controller);

}  // namespace husk::runtime::cgroup
