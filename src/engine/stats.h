// `husk stats`: what a container uses, as docker computes it, from its cgroup (v1 or
// v2), its network namespace's /proc/net/dev and the host's /proc/meminfo.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "engine/record.h"
#include "engine/run.h"

namespace husk::engine {

struct StatsSample {
    bool running = false;  // false: every figure 0 (a stopped container, as docker shows it)
    std::chrono::steady_clock::time_point at;
    uint64_t cpu_ns = 0;                    // CPU time of the container's processes so far
    uint64_t mem_usage = 0, mem_limit = 0;  // bytes; usage without the inactive page cache
    uint64_t net_rx = 0, net_tx = 0;        // bytes, every interface but loopback
    uint64_t blk_read = 0, blk_write = 0;   // bytes
    uint64_t pids = 0;
};

// One sample of a container; a container that stops meanwhile gives a zero sample.
StatsSample sample_stats(const EngineContext& ctx, const ContainerRecord& rec);

// docker's CPU %: CPU time used between two samples over the wall time between them,
// 100% per fully used CPU (so up to N x 100% on N CPUs).
double cpu_percent(const StatsSample& before, const StatsSample& after);

// Received and sent bytes of every interface but "lo" in a /proc/PID/net/dev text.
std::pair<uint64_t, uint64_t> net_dev_totals(const std::string& text);

}  // namespace husk::engine
