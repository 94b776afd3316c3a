// cgroup v2 rdma: rdma.max, the same lines as v1.
#include "runtime/cgroup/backends.h"

namespace husk::runtime::cgroup::v2 {

void rdma(const std::string& dir, const std::map<std::string, oci::RdmaLimit>& limits) {
    v1::rdma(dir, limits);
}

}  // namespace husk::runtime::cgroup::v2
