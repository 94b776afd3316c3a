// cgroup v2 cpuset: the same two files as v1.
#include "runtime/cgroup/backends.h"

namespace husk::runtime::cgroup::v2 {

void cpuset(const std::string& dir, const oci::CpuResources& c) {
    v1::cpuset(dir, c);
}

}  // namespace husk::runtime::cgroup::v2
