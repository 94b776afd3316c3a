// cgroup v2 memory: memory.max, memory.swap.max (= OCI swap - limit), memory.low.
#include <fmt/format.h>

#include "runtime/cgroup/backends.h"
#include "runtime/cgroup/convert.h"
#include "runtime/cgroup/file.h"
#include "sys/error.h"

namespace husk::runtime::cgroup::v2 {

void memory(const std::string& dir, const oci::MemoryResources& m, bool updating) {
    if (updating && m.check_before_update.value_or(false) && m.limit && *m.limit > 0) {
        const uint64_t usage = read_u64(dir, "memory.current");
        if (usage >= static_cast<uint64_t>(*m.limit))
            throw Error(
                fmt::format("linux.resources.memory.limit {}: below the current usage {} "
                            "(checkBeforeUpdate)",
                            *m.limit, usage));
    }
    if (auto swap = swap_v2(m.swap, m.limit)) {
        if (file_exists(dir, "memory.swap.max"))
            write_file(dir, "memory.swap.max", *swap);
        else
            warn_ignored("linux.resources.memory.swap",
                         "the kernel does not account swap (memory.swap.max is missing)");
    }
    if (m.limit) write_file(dir, "memory.max", limit_v2(*m.limit));
    if (m.reservation) write_file(dir, "memory.low", limit_v2(*m.reservation));
    if (m.kernel)
        warn_ignored("linux.resources.memory.kernel", "cgroup v2 has no kernel memory limit");
    if (m.kernel_tcp)
        warn_ignored("linux.resources.memory.kernelTCP", "cgroup v2 has no kernel TCP limit");
    if (m.swappiness)
        warn_ignored("linux.resources.memory.swappiness", "cgroup v2 has no per-cgroup swappiness");
    if (m.disable_oom_killer.value_or(false))
        warn_ignored("linux.resources.memory.disableOOMKiller",
                     "cgroup v2 cannot disable the OOM killer");
    if (m.use_hierarchy && !*m.use_hierarchy)
        warn_ignored("linux.resources.memory.useHierarchy", "cgroup v2 is always hierarchical");
}

void memory_stats(const std::string& dir, Stats& s) {
    s.memory.usage = read_u64(dir, "memory.current");
    s.memory.max_usage = read_u64(dir, "memory.peak");
    s.memory.limit = read_u64(dir, "memory.max");
    s.swap.usage = read_u64(dir, "memory.swap.current");
    s.swap.max_usage = read_u64(dir, "memory.swap.peak");
    s.swap.limit = read_u64(dir, "memory.swap.max");
    std::string events;
    if (try_read_file(dir + "/memory.events", events)) {
        int64_t max = flat_key(events, "max");
        s.memory.failcnt = max < 0 ? 0 : static_cast<uint64_t>(max);
    }
    s.memory_raw = read_flat(dir, "memory.stat");
    if (auto it = s.memory_raw.find("file"); it != s.memory_raw.end()) s.memory_cache = it->second;
    s.oom_kills = oom_kills(dir);
}

uint64_t oom_kills(const std::string& dir) {
    std::string text;
    if (!try_read_file(dir + "/memory.events", text)) return 0;
    int64_t n = flat_key(text, "oom_kill");
    return n < 0 ? 0 : static_cast<uint64_t>(n);
}

}  // namespace husk::runtime::cgroup::v2
