// cgroup v1 devices: the rules in order, each one write to devices.allow or devices.deny.
#include "runtime/cgroup/backends.h"
#include "runtime/cgroup/convert.h"
#include "runtime/cgroup/file.h"

namespace husk::runtime::cgroup::v1 {

void devices(const std::string& dir, const std::vector<oci::DeviceRule>& rules) {
    // Each rule is one write, in order; the two files stay open across the rules.
    WriteFile allow(dir, "devices.allow");
    WriteFile deny(dir, "devices.deny");
    for (const auto& r : rules) (r.allow ? allow : deny).write(device_rule_v1(r));
}

}  // namespace husk::runtime::cgroup::v1
