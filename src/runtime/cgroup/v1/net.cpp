// cgroup v1 net_cls (class id of the container's packets) and net_prio (per-interface priority).
#include <fmt/format.h>

#include "runtime/cgroup/backends.h"
#include "runtime/cgroup/file.h"

namespace husk::runtime::cgroup::v1 {

void net_cls(const std::string& dir, const oci::NetworkResources& n) {
    if (n.class_id) write_file(dir, "net_cls.classid", std::to_string(*n.class_id));
}

void net_prio(const std::string& dir, const oci::NetworkResources& n) {
    for (const auto& p : n.priorities)
        write_file(dir, "net_prio.ifpriomap", fmt::format("{} {}", p.name, p.priority));
}

}  // namespace husk::runtime::cgroup::v1
