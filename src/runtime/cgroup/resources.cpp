#include "runtime/cgroup/resources.h"

#include "runtime/cgroup/manager.h"
#include "sys/log.h"

namespace husk::runtime::cgroup {

bool needs_controller(const oci::Resources& res, std::string_view controller) {
    if (controller == "memory") return res.memory.has_value();
    if (controller == "pids") return res.pids.has_value();
    if (controller == "cpu" || controller == "cpuset") return res.cpu.has_value();
    if (controller == "io" || controller == "blkio") return res.block_io.has_value();
    if (controller == "hugetlb") return !res.hugepage_limits.empty();
    if (controller == "rdma") return !res.rdma.empty();
    return false;
}

void Manager::apply(const oci::Resources& res, bool creating) {
    (void)creating;
    if (res.memory || res.cpu || res.pids || res.block_io || !res.hugepage_limits.empty() ||
        res.network || !res.rdma.empty() || !res.unified.empty())
        log::warn("cgroup: linux.resources limits are not applied yet");
}

void Manager::update(const oci::Resources& res) {
    apply(res, false);
}

Stats Manager::stats() const {
    return {};
}

uint64_t Manager::oom_kills() const {
    return 0;
}

}  // namespace husk::runtime::cgroup
