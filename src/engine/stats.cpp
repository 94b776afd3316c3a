#include "engine/stats.h"

#include <fstream>
#include <limits>
#include <sstream>

#include "runtime/container.h"
#include "sys/error.h"

namespace husk::engine {
namespace {

uint64_t host_memory() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    uint64_t kib = 0;
    while (in >> key >> kib) {
        if (key == "MemTotal:") return kib * 1024;
        in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    }
    return 0;
}

uint64_t raw(const runtime::cgroup::Stats& s, const char* key) {
    auto it = s.memory_raw.find(key);
    return it == s.memory_raw.end() ? 0 : it->second;
}

// docker: usage minus the inactive file cache (cgroup v1 "total_inactive_file", v2
// "inactive_file"), which the kernel reclaims first.
uint64_t memory_used(const runtime::cgroup::Stats& s) {
    uint64_t inactive = s.memory_raw.contains("total_inactive_file") ? raw(s, "total_inactive_file")
                                                                     : raw(s, "inactive_file");
    return s.memory.usage > inactive ? s.memory.usage - inactive : s.memory.usage;
}

}  // namespace

std::pair<uint64_t, uint64_t> net_dev_totals(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    uint64_t rx = 0, tx = 0;
    while (std::getline(in, line)) {
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;  // the two header lines
        std::string name = line.substr(0, colon);
        name.erase(0, name.find_first_not_of(' '));
        if (name == "lo") continue;
        std::istringstream f(line.substr(colon + 1));
        uint64_t v[9] = {};
        for (auto& x : v) f >> x;
        rx += v[0];  // receive bytes
        tx += v[8];  // transmit bytes
    }
    return {rx, tx};
}

StatsSample sample_stats(const EngineContext& ctx, const ContainerRecord& rec) {
    StatsSample s;
    s.at = std::chrono::steady_clock::now();
    if (rec.status != ContainerStatus::running) return s;
    runtime::cgroup::Stats cg;
    try {
        cg = runtime::stats(ctx.state_root(), rec.id);
    } catch (const Error&) {
        return s;  // stopped meanwhile
    }
    s.running = true;
    s.cpu_ns = cg.cpu_total;
    s.mem_usage = memory_used(cg);
    uint64_t host = host_memory();
    s.mem_limit = cg.memory.limit == 0 || cg.memory.limit >= host ? host : cg.memory.limit;
    for (const auto& e : cg.io_service_bytes) {
        if (e.op == "Read") s.blk_read += e.value;
        if (e.op == "Write") s.blk_write += e.value;
    }
    s.pids = cg.pids_current;
    if (rec.pid > 0) {
        std::ifstream in("/proc/" + std::to_string(rec.pid) + "/net/dev");
        std::stringstream text;
        text << in.rdbuf();
        std::tie(s.net_rx, s.net_tx) = net_dev_totals(text.str());
    }
    return s;
}

double cpu_percent(const StatsSample& before, const StatsSample& after) {
    if (!before.running || !after.running || after.cpu_ns < before.cpu_ns) return 0;
    double wall_ns = std::chrono::duration<double, std::nano>(after.at - before.at).count();
    if (wall_ns <= 0) return 0;
    return static_cast<double>(after.cpu_ns - before.cpu_ns) / wall_ns * 100.0;
}

}  // namespace husk::engine
