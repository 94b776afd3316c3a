#include "runtime/cgroup/stats.h"

#include <nlohmann/json.hpp>

namespace husk::runtime::cgroup {

namespace {

nlohmann::json memory_entry(const MemoryEntry& e) {
    return {{"usage", e.usage}, {"max", e.max_usage}, {"failcnt", e.failcnt}, {"limit", e.limit}};
}

nlohmann::json blkio_entries(const std::vector<BlkioEntry>& v) {
    auto out = nlohmann::json::array();
    for (const auto& e : v)
        out.push_back({{"major", e.major}, {"minor", e.minor}, {"op", e.op}, {"value", e.value}});
    return out;
}

}  // namespace

std::string Stats::to_json() const {
    nlohmann::json j;
    j["cpu"] = {{"usage",
                 {{"total", cpu_total},
                  {"percpu", cpu_percpu},
                  {"kernel", cpu_kernel},
                  {"user", cpu_user}}},
                {"throttling",
                 {{"periods", cpu_periods},
                  {"throttledPeriods", cpu_throttled_periods},
                  {"throttledTime", cpu_throttled_time}}}};
    j["memory"] = {{"cache", memory_cache},      {"usage", memory_entry(memory)},
                   {"swap", memory_entry(swap)}, {"kernel", memory_entry(kernel)},
                   {"raw", memory_raw},          {"oomKills", oom_kills}};
    j["pids"] = {{"current", pids_current}, {"limit", pids_limit}};
    j["blkio"] = {{"ioServiceBytesRecursive", blkio_entries(io_service_bytes)},
                  {"ioServicedRecursive", blkio_entries(io_serviced)}};
    auto h = nlohmann::json::object();
    for (const auto& [size, e] : hugetlb)
        h[size] = {{"usage", e.usage}, {"max", e.max_usage}, {"failcnt", e.failcnt}};
    j["hugetlb"] = h;
    return j.dump();
}

}  // namespace husk::runtime::cgroup
