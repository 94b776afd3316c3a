// cgroup v1 cpuset: cpus and memory nodes (validated against the machine beforehand).
#include "runtime/cgroup/backends.h"
#include "runtime/cgroup/file.h"

namespace husk::runtime::cgroup::v1 {

void cpuset(const std::string& dir, const oci::CpuResources& c) {
    if (!c.cpus.empty()) write_file(dir, "cpuset.cpus", c.cpus);
    if (!c.mems.empty()) write_file(dir, "cpuset.mems", c.mems);
}

}  // namespace husk::runtime::cgroup::v1
