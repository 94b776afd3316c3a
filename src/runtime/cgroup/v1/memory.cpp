// cgroup v1 memory: limit, memsw (memory+swap), soft limit, swappiness, OOM killer.
#include <fmt/format.h>

#include "runtime/cgroup/backends.h"
#include "runtime/cgroup/file.h"
#include "sys/error.h"

namespace husk::runtime::cgroup::v1 {

namespace {

int64_t read_i64(const std::string& dir, std::string_view name) {
    return std::stoll(read_file(dir, name));
}

}  // namespace

void memory(const std::string& dir, const oci::MemoryResources& m, bool updating) {
    if (updating && m.check_before_update.value_or(false) && m.limit && *m.limit > 0) {
        const int64_t usage = read_i64(dir, "memory.usage_in_bytes");
        if (usage >= *m.limit)
            throw Error(
                fmt::format("linux.resources.memory.limit {}: below the current usage {} "
                            "(checkBeforeUpdate)",
                            *m.limit, usage));
    }
    const bool memsw = file_exists(dir, "memory.memsw.limit_in_bytes");
    const bool swap = m.swap && *m.swap != 0;
    if (swap && !memsw)
        warn_ignored("linux.resources.memory.swap",
                     "the kernel does not account swap (memory.memsw.limit_in_bytes is missing)");
    if (m.limit && swap && memsw) {
        // memsw must never be below the memory limit, at any step.
        const int64_t current = read_i64(dir, "memory.limit_in_bytes");
        if (*m.swap == -1 || *m.limit == -1 || *m.limit > current) {
            write_file(dir, "memory.memsw.limit_in_bytes", std::to_string(*m.swap));
            write_file(dir, "memory.limit_in_bytes", std::to_string(*m.limit));
        } else {
            write_file(dir, "memory.limit_in_bytes", std::to_string(*m.limit));
            write_file(dir, "memory.memsw.limit_in_bytes", std::to_string(*m.swap));
        }
    } else if (m.limit) {
        write_file(dir, "memory.limit_in_bytes", std::to_string(*m.limit));
    } else if (swap && memsw) {
        write_file(dir, "memory.memsw.limit_in_bytes", std::to_string(*m.swap));
    }
    if (m.reservation)
        write_file(dir, "memory.soft_limit_in_bytes", std::to_string(*m.reservation));
    if (m.kernel)
        warn_ignored("linux.resources.memory.kernel",
                     "kernel memory limits are no-ops since Linux 5.16");
    if (m.kernel_tcp) {
        if (file_exists(dir, "memory.kmem.tcp.limit_in_bytes"))
            write_file(dir, "memory.kmem.tcp.limit_in_bytes", std::to_string(*m.kernel_tcp));
        else
            warn_ignored("linux.resources.memory.kernelTCP",
                         "memory.kmem.tcp.limit_in_bytes is missing");
    }
    if (m.swappiness) {
        if (file_exists(dir, "memory.swappiness"))
            write_file(dir, "memory.swappiness", std::to_string(*m.swappiness));
        else
            warn_ignored("linux.resources.memory.swappiness", "memory.swappiness is missing");
    }
    if (m.disable_oom_killer.value_or(false)) write_file(dir, "memory.oom_control", "1");
    if (m.use_hierarchy && !*m.use_hierarchy)
        warn_ignored(
            "linux.resources.memory.useHierarchy",
            "the kernel is always hierarchical (useHierarchy=false gives EINVAL since 5.x)");
}

void memory_stats(const std::string& dir, Stats& s) {
    auto entry = [&](std::string_view prefix, MemoryEntry& e) {
        e.usage = read_u64(dir, fmt::format("{}usage_in_bytes", prefix));
        e.max_usage = read_u64(dir, fmt::format("{}max_usage_in_bytes", prefix));
        e.failcnt = read_u64(dir, fmt::format("{}failcnt", prefix));
        e.limit = read_u64(dir, fmt::format("{}limit_in_bytes", prefix));
    };
    entry("memory.", s.memory);
    entry("memory.memsw.", s.swap);
    entry("memory.kmem.", s.kernel);
    s.memory_raw = read_flat(dir, "memory.stat");
    if (auto it = s.memory_raw.find("total_cache"); it != s.memory_raw.end())
        s.memory_cache = it->second;
    s.oom_kills = oom_kills(dir);
}

uint64_t oom_kills(const std::string& dir) {
    std::string text;
    if (!try_read_file(dir + "/memory.oom_control", text)) return 0;
    int64_t n = flat_key(text, "oom_kill");
    return n < 0 ? 0 : static_cast<uint64_t>(n);
}

}  // namespace husk::runtime::cgroup::v1
