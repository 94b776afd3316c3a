// What a container with limits should read in /proc and /sys (--proc-virtualize): the
// host's text of each file rewritten with the numbers of the container's cgroup. Pure
// functions of their inputs (the host's file text and a CgroupView), so they are tested
// with fixtures; procvirt.cpp reads the inputs and serves the results.
#pragma once

#include <sys/sysinfo.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace husk::runtime::procvirt {

constexpr uint64_t kUnlimited = UINT64_MAX;

// One block device's I/O done by the container (from io.stat or blkio).
struct DiskIo {
    uint64_t major = 0, minor = 0;
    uint64_t read_bytes = 0, write_bytes = 0, reads = 0, writes = 0;
};

// The container's cgroup as the renderers need it; memory in bytes, limits kUnlimited
// when there is none. Swap is swap alone (a v1 memsw pair is converted by the reader).
struct CgroupView {
    uint64_t mem_limit = kUnlimited, mem_usage = 0;
    std::map<std::string, uint64_t> mem_stat;  // memory.stat (v1 or v2 names)
    bool v1_memory = false;
    uint64_t swap_limit = kUnlimited, swap_usage = 0;
    bool swap_known = false;  // the cgroup accounts swap (v2, or v1 with memsw)
    uint64_t cpu_quota_us = 0, cpu_period_us = 0;  // quota 0: none
    std::vector<unsigned> cpuset;                  // host CPU ids allowed; empty: all online
    uint64_t cpu_user_us = 0, cpu_system_us = 0;
    uint64_t tasks = 0, running = 0;  // processes in the cgroup, of them runnable
    std::vector<DiskIo> disks;
};

// "0-3,5\n" -> {0,1,2,3,5}; malformed parts are skipped.
std::vector<unsigned> parse_cpu_list(std::string_view text);
// The host CPUs the container is shown, lowest first: the cpuset (or `online`), cut to
// ceil(quota/period) when a CPU quota is smaller. Never empty when `online` is not.
std::vector<unsigned> visible_cpus(const CgroupView& cg, const std::vector<unsigned>& online);
// ceil(quota/period), at least 1; 0 when the cgroup has no CPU quota.
size_t quota_cpus(const CgroupView& cg);
// sched_getaffinity(2)'s answer for the container: in the `len`-byte mask (the
// kernel's bit order: CPU n is bit n%8 of byte n/8) only the first `keep` CPUs set
// stay set. Returns whether it changed anything.
bool narrow_affinity(unsigned char* mask, size_t len, size_t keep);
// The container's CPUs renumbered from 0: "0\n", "0-3\n".
std::string render_cpu_range(size_t count);

// The memory numbers both /proc/meminfo and sysinfo(2) report, in bytes.
struct MemoryNumbers {
    uint64_t total = 0, free = 0, available = 0, cached = 0, shmem = 0;
    uint64_t swap_total = 0, swap_free = 0;
    bool swap_from_cgroup = false;
};
// `host_meminfo` supplies the host's totals (the cap when the limit is above them).
MemoryNumbers memory_numbers(const CgroupView& cg, std::string_view host_meminfo);

std::string render_meminfo(std::string_view host_meminfo, const CgroupView& cg);
// The processor blocks of the visible CPUs, renumbered from 0.
std::string render_cpuinfo(std::string_view host_cpuinfo, const std::vector<unsigned>& visible);
// cpu lines from the container's usage spread over its CPUs (idle: the host CPU's time
// not used by the container); procs_running/procs_blocked the container's own; the rest
// as the host's. `ticks_per_sec` is USER_HZ (sysconf(_SC_CLK_TCK)).
std::string render_stat(std::string_view host_stat, const CgroupView& cg,
                        const std::vector<unsigned>& visible, long ticks_per_sec);
// The container's own load: averages kept by the server (LoadAverage) over its tasks.
std::string render_loadavg(std::string_view host_loadavg, const double avg[3],
                           const CgroupView& cg);
// Only the devices the container did I/O on, with its own counters.
std::string render_diskstats(std::string_view host_diskstats, const CgroupView& cg);
// With a swap limit: one "none virtual" line of that size; else the host's text.
std::string render_swaps(std::string_view host_swaps, const CgroupView& cg);

// Exponentially damped averages of the container's runnable tasks, updated when
// someone reads (no timer: an idle container costs nothing). `now` in seconds.
struct LoadAverage {
    double avg[3] = {0, 0, 0};
    double last = -1;
    void sample(double now, uint64_t runnable);
};

// sysinfo(2) for the container: memory, swap and procs of its cgroup, uptime since its
// start, its load. Unit 1 byte.
struct sysinfo render_sysinfo(const CgroupView& cg, std::string_view host_meminfo,
                              const LoadAverage& load, long uptime_secs);

}  // namespace husk::runtime::procvirt
