// cgroup v1 cpu (shares, CFS quota/period/burst, realtime, idle) and cpuacct (usage).
#include <cerrno>
#include <sstream>

#include <fmt/format.h>

#include "runtime/cgroup/backends.h"
#include "runtime/cgroup/file.h"
#include "sys/error.h"

namespace husk::runtime::cgroup::v1 {

namespace {

std::string parent_of(const std::string& dir) {
    return dir.substr(0, dir.rfind('/'));
}

// A child's RT runtime cannot exceed its parent's: our own intermediate cgroups
// (/husk) start at 0, so raise them first, top down, where they are lower.
void write_rt_runtime(const std::string& dir, int64_t runtime) {
    try {
        write_file(dir, "cpu.rt_runtime_us", std::to_string(runtime));
        return;
    } catch (const Error& e) {
        if (e.code() != EINVAL) throw;
    }
    std::vector<std::string> chain;
    for (std::string d = parent_of(dir); file_exists(parent_of(d), "cpu.rt_runtime_us");
         d = parent_of(d))
        chain.push_back(d);
    for (auto it = chain.rbegin(); it != chain.rend(); ++it)
        if (std::stoll(read_file(*it, "cpu.rt_runtime_us")) < runtime)
            write_file(*it, "cpu.rt_runtime_us", std::to_string(runtime));
    write_file(dir, "cpu.rt_runtime_us", std::to_string(runtime));
}

}  // namespace

void cpu(const std::string& dir, const oci::CpuResources& c) {
    if (c.shares && *c.shares != 0) write_file(dir, "cpu.shares", std::to_string(*c.shares));
    if (c.period && *c.period != 0) write_file(dir, "cpu.cfs_period_us", std::to_string(*c.period));
    if (c.quota && *c.quota != 0) write_file(dir, "cpu.cfs_quota_us", std::to_string(*c.quota));
    if (c.burst) {
        if (file_exists(dir, "cpu.cfs_burst_us"))
            write_file(dir, "cpu.cfs_burst_us", std::to_string(*c.burst));
        else
            warn_ignored("linux.resources.cpu.burst", "cpu.cfs_burst_us is missing (Linux < 5.14)");
    }
    if (c.realtime_period || c.realtime_runtime) {
        if (!file_exists(dir, "cpu.rt_runtime_us")) {
            warn_ignored("linux.resources.cpu.realtimeRuntime/realtimePeriod",
                         "the kernel has no CONFIG_RT_GROUP_SCHED (cpu.rt_runtime_us is missing)");
        } else {
            if (c.realtime_period && *c.realtime_period != 0)
                write_file(dir, "cpu.rt_period_us", std::to_string(*c.realtime_period));
            if (c.realtime_runtime && *c.realtime_runtime != 0)
                write_rt_runtime(dir, *c.realtime_runtime);
        }
    }
    if (c.idle) {
        if (file_exists(dir, "cpu.idle"))
            write_file(dir, "cpu.idle", std::to_string(*c.idle));
        else
            warn_ignored("linux.resources.cpu.idle", "cpu.idle is missing (Linux < 5.15)");
    }
}

void cpu_stats(const std::string& dir, Stats& s) {
    auto st = read_flat(dir, "cpu.stat");
    s.cpu_periods = st["nr_periods"];
    s.cpu_throttled_periods = st["nr_throttled"];
    s.cpu_throttled_time = st["throttled_time"];
}

void cpuacct_stats(const std::string& dir, Stats& s) {
    s.cpu_total = read_u64(dir, "cpuacct.usage");
    s.cpu_user = read_u64(dir, "cpuacct.usage_user");
    s.cpu_kernel = read_u64(dir, "cpuacct.usage_sys");
    std::string percpu;
    if (try_read_file(dir + "/cpuacct.usage_percpu", percpu)) {
        std::istringstream in(percpu);
        uint64_t v;
        while (in >> v) s.cpu_percpu.push_back(v);
    }
}

}  // namespace husk::runtime::cgroup::v1
