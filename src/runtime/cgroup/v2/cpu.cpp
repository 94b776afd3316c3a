// cgroup v2 cpu: cpu.weight (from shares), cpu.max (quota period), burst, idle.
#include <fmt/format.h>

#include "runtime/cgroup/backends.h"
#include "runtime/cgroup/convert.h"
#include "runtime/cgroup/file.h"

namespace husk::runtime::cgroup::v2 {

void cpu(const std::string& dir, const oci::CpuResources& c) {
    if (c.shares && *c.shares != 0)
        write_file(dir, "cpu.weight", std::to_string(shares_to_weight(*c.shares)));
    auto quota = c.quota;
    auto period = c.period;
    if (quota.has_value() != period.has_value()) {
        // Only one of them given (update): keep the other as it is.
        std::string cur;
        if (try_read_file(dir + "/cpu.max", cur)) {
            auto sp = cur.find(' ');
            if (!quota && sp != std::string::npos)
                quota = cur.substr(0, sp) == "max" ? -1 : std::stoll(cur.substr(0, sp));
            if (!period && sp != std::string::npos) period = std::stoull(cur.substr(sp + 1));
        }
    }
    if (auto v = cpu_max(quota, period); !v.empty()) write_file(dir, "cpu.max", v);
    if (c.burst) write_file(dir, "cpu.max.burst", std::to_string(*c.burst));
    if (c.idle) write_file(dir, "cpu.idle", std::to_string(*c.idle));
    if (c.realtime_period || c.realtime_runtime)
        warn_ignored("linux.resources.cpu.realtimeRuntime/realtimePeriod",
                     "cgroup v2 has no realtime bandwidth control");
}

void cpu_stats(const std::string& dir, Stats& s) {
    auto st = read_flat(dir, "cpu.stat");  // usage is there even without the cpu controller
    s.cpu_total = st["usage_usec"] * 1000;
    s.cpu_user = st["user_usec"] * 1000;
    s.cpu_kernel = st["system_usec"] * 1000;
    s.cpu_periods = st["nr_periods"];
    s.cpu_throttled_periods = st["nr_throttled"];
    s.cpu_throttled_time = st["throttled_usec"] * 1000;
}

}  // namespace husk::runtime::cgroup::v2
