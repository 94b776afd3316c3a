// Usage and limits of a container's cgroup, the numbers of `events --stats`.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace husk::runtime::cgroup {

struct MemoryEntry {
    uint64_t usage = 0, max_usage = 0, failcnt = 0, limit = 0;
};

struct BlkioEntry {
    uint64_t major = 0, minor = 0;
    std::string op;  // "Read", "Write", "Sync", "Async", "Discard", "Total"
    uint64_t value = 0;
};

struct HugetlbEntry {
    uint64_t usage = 0, max_usage = 0, failcnt = 0, limit = 0;
};

struct Stats {
    // cpu (nanoseconds)
    uint64_t cpu_total = 0, cpu_user = 0, cpu_kernel = 0;
    std::vector<uint64_t> cpu_percpu;
    uint64_t cpu_periods = 0, cpu_throttled_periods = 0, cpu_throttled_time = 0;
    // memory (bytes); limit is UINT64_MAX when unlimited
    MemoryEntry memory, swap, kernel;
    uint64_t memory_cache = 0;
    std::map<std::string, uint64_t> memory_raw;  // memory.stat
    // pids; limit 0 when unlimited
    uint64_t pids_current = 0, pids_limit = 0;
    // blkio / io
    std::vector<BlkioEntry> io_service_bytes, io_serviced;
    // hugetlb by page size ("2MB")
    std::map<std::string, HugetlbEntry> hugetlb;
    uint64_t oom_kills = 0;

    // runc's `events --stats` "data" object.
    std::string to_json() const;
};

}  // namespace husk::runtime::cgroup
