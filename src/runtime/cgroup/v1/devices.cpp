// cgroup v1 devices: the rules in order, each to devices.allow or devices.deny.
#include "runtime/cgroup/backends.h"
#include "runtime/cgroup/convert.h"
#include "runtime/cgroup/file.h"

namespace husk::runtime::cgroup::v1 {

void devices(const std::string& dir, const std::vector<oci::DeviceRule>& rules) {
    for (const auto& r : rules)
        write_file(dir, r.allow ? "devices.allow" : "devices.deny", device_rule_v1(r));
}

}  // namespace husk::runtime::cgroup::v1
