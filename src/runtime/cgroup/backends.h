// The per-controller backends, one file each: v1/<controller>.cpp writes the
// cgroup v1 files, v2/<controller>.cpp the cgroup v2 ones. `dir` is the
// container's cgroup directory in the hierarchy holding the controller.
// Knobs the kernel no longer has are accepted with a husk::log::warn.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "oci/spec.h"
#include "runtime/cgroup/stats.h"

namespace husk::runtime::cgroup {

// Warn that `field` is accepted but has no effect, and why.
void warn_ignored(std::string_view field, std::string_view why);

namespace v1 {
void memory(const std::string& dir, const oci::MemoryResources& m, bool updating);
void cpu(const std::string& dir, const oci::CpuResources& c);
void cpuset(const std::string& dir, const oci::CpuResources& c);
void pids(const std::string& dir, const oci::PidsResources& p);
void blkio(const std::string& dir, const oci::BlockIoResources& b);
void hugetlb(const std::string& dir, const std::vector<oci::HugepageLimit>& limits);
void devices(const std::string& dir, const std::vector<oci::DeviceRule>& rules);
void net_cls(const std::string& dir, const oci::NetworkResources& n);
void net_prio(const std::string& dir, const oci::NetworkResources& n);
void rdma(const std::string& dir, const std::map<std::string, oci::RdmaLimit>& limits);

void memory_stats(const std::string& dir, Stats& s);
void cpu_stats(const std::string& dir, Stats& s);      // cpu: throttling
void cpuacct_stats(const std::string& dir, Stats& s);  // cpuacct: usage
void pids_stats(const std::string& dir, Stats& s);
void blkio_stats(const std::string& dir, Stats& s);
void hugetlb_stats(const std::string& dir, Stats& s);
uint64_t oom_kills(const std::string& dir);  // memory.oom_control oom_kill
}  // namespace v1

namespace v2 {
void memory(const std::string& dir, const oci::MemoryResources& m, bool updating);
void cpu(const std::string& dir, const oci::CpuResources& c);
void cpuset(const std::string& dir, const oci::CpuResources& c);
void pids(const std::string& dir, const oci::PidsResources& p);
void io(const std::string& dir, const oci::BlockIoResources& b);
void hugetlb(const std::string& dir, const std::vector<oci::HugepageLimit>& limits);
// Replace the container's eBPF device program (cgroup fd of `dir`) by one for `rules`.
void devices(const std::string& dir, const std::vector<oci::DeviceRule>& rules);
void rdma(const std::string& dir, const std::map<std::string, oci::RdmaLimit>& limits);
void unified(const std::string& dir, const std::map<std::string, std::string>& values);

void memory_stats(const std::string& dir, Stats& s);
void cpu_stats(const std::string& dir, Stats& s);
void pids_stats(const std::string& dir, Stats& s);
void io_stats(const std::string& dir, Stats& s);
void hugetlb_stats(const std::string& dir, Stats& s);
uint64_t oom_kills(const std::string& dir);  // memory.events oom_kill
}  // namespace v2

// Shared by both versions.
std::string rdma_line(const std::string& device, const oci::RdmaLimit& l);
uint64_t read_u64(const std::string& dir,
                  std::string_view name);  // "max" -> UINT64_MAX; missing -> 0

}  // namespace husk::runtime::cgroup
