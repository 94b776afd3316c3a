// cgroup rdma (same file in v1 and v2): HCA handles and objects per device.
#include <fmt/format.h>

#include "runtime/cgroup/backends.h"
#include "runtime/cgroup/file.h"

namespace husk::runtime::cgroup {

std::string rdma_line(const std::string& device, const oci::RdmaLimit& l) {
    auto v = [](const std::optional<uint32_t>& x) { return x ? std::to_string(*x) : "max"; };
    return fmt::format("{} hca_handle={} hca_object={}", device, v(l.hca_handles),
                       v(l.hca_objects));
}

namespace v1 {
void rdma(const std::string& dir, const std::map<std::string, oci::RdmaLimit>& limits) {
    for (const auto& [device, l] : limits) write_file(dir, "rdma.max", rdma_line(device, l));
}
}  // namespace v1

}  // namespace husk::runtime::cgroup
