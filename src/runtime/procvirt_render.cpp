#include "runtime/procvirt_render.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>

#include <fmt/format.h>

namespace husk::runtime::procvirt {
namespace {

// Each line of `text` (without its '\n'), in order.
template <typename F>
void for_each_line(std::string_view text, F&& f) {
    while (!text.empty()) {
        size_t nl = text.find('\n');
        f(text.substr(0, nl));
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
}

std::vector<std::string_view> words(std::string_view line) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        size_t j = i;
        while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
        if (j > i) out.push_back(line.substr(i, j - i));
        i = j;
    }
    return out;
}

uint64_t to_u64(std::string_view s) {
    uint64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

// "MemTotal:   123 kB" in `meminfo`: 123 * 1024, or 0 when missing.
uint64_t meminfo_bytes(std::string_view meminfo, std::string_view key) {
    uint64_t out = 0;
    for_each_line(meminfo, [&](std::string_view line) {
        auto w = words(line);
        if (w.size() >= 2 && w[0].size() == key.size() + 1 && w[0].starts_with(key) &&
            w[0].back() == ':')
            out = to_u64(w[1]) * 1024;
    });
    return out;
}

// memory.stat by its v2 name or its v1 (hierarchical "total_") name.
uint64_t stat_of(const CgroupView& cg, std::string_view v2, std::string_view v1) {
    auto it = cg.mem_stat.find(std::string(cg.v1_memory ? v1 : v2));
    return it == cg.mem_stat.end() ? 0 : it->second;
}

std::string kb_line(std::string_view key, uint64_t bytes) {
    return fmt::format("{:<16}{:>8} kB\n", fmt::format("{}:", key), bytes / 1024);
}

}  // namespace

std::vector<unsigned> parse_cpu_list(std::string_view text) {
    std::vector<unsigned> out;
    while (!text.empty()) {
        size_t comma = text.find(',');
        std::string_view part = text.substr(0, comma);
        while (!part.empty() && (part.back() == '\n' || part.back() == ' ')) part.remove_suffix(1);
        unsigned a = 0, b = 0;
        auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), a);
        if (ec == std::errc() && p != part.data()) {
            b = a;
            if (p < part.data() + part.size() && *p == '-') {
                auto [q, ec2] = std::from_chars(p + 1, part.data() + part.size(), b);
                if (ec2 != std::errc() || q == p + 1) b = a - 1;  // malformed: skipped
            }
            for (unsigned c = a; c <= b && b - a < 65536; ++c) out.push_back(c);
        }
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::vector<unsigned> visible_cpus(const CgroupView& cg, const std::vector<unsigned>& online) {
    std::vector<unsigned> cpus;
    if (cg.cpuset.empty()) {
        cpus = online;
    } else {
        for (unsigned c : cg.cpuset)
            if (online.empty() || std::binary_search(online.begin(), online.end(), c))
                cpus.push_back(c);
        if (cpus.empty()) cpus = online;
    }
    if (size_t n = quota_cpus(cg); n > 0 && n < cpus.size()) cpus.resize(n);
    return cpus;
}

size_t quota_cpus(const CgroupView& cg) {
    if (cg.cpu_quota_us == 0 || cg.cpu_period_us == 0) return 0;
    uint64_t n = (cg.cpu_quota_us + cg.cpu_period_us - 1) / cg.cpu_period_us;
    return static_cast<size_t>(std::max<uint64_t>(n, 1));
}

bool narrow_affinity(unsigned char* mask, size_t len, size_t keep) {
    bool changed = false;
    for (size_t i = 0; i < len * 8; ++i) {
        auto bit = static_cast<unsigned char>(1U << (i % 8));
        if (!(mask[i / 8] & bit)) continue;
        if (keep > 0) {
            --keep;
            continue;
        }
        mask[i / 8] = static_cast<unsigned char>(mask[i / 8] & ~bit);
        changed = true;
    }
    return changed;
}

std::string render_cpu_range(size_t count) {
    return count <= 1 ? "0\n" : fmt::format("0-{}\n", count - 1);
}

MemoryNumbers memory_numbers(const CgroupView& cg, std::string_view host_meminfo) {
    MemoryNumbers m;
    uint64_t host_total = meminfo_bytes(host_meminfo, "MemTotal");
    uint64_t host_swap = meminfo_bytes(host_meminfo, "SwapTotal");
    if (cg.mem_limit == kUnlimited || (host_total && cg.mem_limit >= host_total)) {
        m.total = host_total;
        m.free = meminfo_bytes(host_meminfo, "MemFree");
        m.available = meminfo_bytes(host_meminfo, "MemAvailable");
        m.cached = meminfo_bytes(host_meminfo, "Cached");
        m.shmem = meminfo_bytes(host_meminfo, "Shmem");
        m.swap_total = host_swap;
        m.swap_free = meminfo_bytes(host_meminfo, "SwapFree");
        return m;
    }
    m.total = cg.mem_limit;
    m.free = m.total > cg.mem_usage ? m.total - cg.mem_usage : 0;
    m.cached = stat_of(cg, "file", "total_cache");
    m.shmem = stat_of(cg, "shmem", "total_shmem");
    uint64_t reclaimable = stat_of(cg, "active_file", "total_active_file") +
                           stat_of(cg, "inactive_file", "total_inactive_file") +
                           stat_of(cg, "slab_reclaimable", "total_slab_reclaimable");
    m.available = std::min(m.total, m.free + reclaimable);
    if (cg.swap_known) {
        m.swap_from_cgroup = true;
        m.swap_total = cg.swap_limit == kUnlimited ? host_swap : std::min(cg.swap_limit, host_swap);
        m.swap_free = m.swap_total > cg.swap_usage ? m.swap_total - cg.swap_usage : 0;
    } else {
        m.swap_total = host_swap;
        m.swap_free = meminfo_bytes(host_meminfo, "SwapFree");
    }
    return m;
}

std::string render_meminfo(std::string_view host_meminfo, const CgroupView& cg) {
    if (cg.mem_limit == kUnlimited) return std::string(host_meminfo);
    MemoryNumbers m = memory_numbers(cg, host_meminfo);
    uint64_t active_anon = stat_of(cg, "active_anon", "total_active_anon");
    uint64_t inactive_anon = stat_of(cg, "inactive_anon", "total_inactive_anon");
    uint64_t active_file = stat_of(cg, "active_file", "total_active_file");
    uint64_t inactive_file = stat_of(cg, "inactive_file", "total_inactive_file");
    uint64_t slab_r = stat_of(cg, "slab_reclaimable", "total_slab_reclaimable");
    uint64_t slab_u = stat_of(cg, "slab_unreclaimable", "total_slab_unreclaimable");
    const std::map<std::string_view, uint64_t> values = {
        {"MemTotal", m.total},
        {"MemFree", m.free},
        {"MemAvailable", m.available},
        {"Buffers", 0},
        {"Cached", m.cached > m.shmem ? m.cached - m.shmem : m.cached},
        {"SwapCached", 0},
        {"Active", active_anon + active_file},
        {"Inactive", inactive_anon + inactive_file},
        {"Active(anon)", active_anon},
        {"Inactive(anon)", inactive_anon},
        {"Active(file)", active_file},
        {"Inactive(file)", inactive_file},
        {"Unevictable", stat_of(cg, "unevictable", "total_unevictable")},
        {"SwapTotal", m.swap_total},
        {"SwapFree", m.swap_free},
        {"Dirty", stat_of(cg, "file_dirty", "total_dirty")},
        {"Writeback", stat_of(cg, "file_writeback", "total_writeback")},
        {"AnonPages", stat_of(cg, "anon", "total_rss")},
        {"Mapped", stat_of(cg, "file_mapped", "total_mapped_file")},
        {"Shmem", m.shmem},
        {"Slab", slab_r + slab_u},
        {"SReclaimable", slab_r},
        {"SUnreclaim", slab_u},
    };
    std::string out;
    for_each_line(host_meminfo, [&](std::string_view line) {
        if (line.empty()) return;
        size_t colon = line.find(':');
        auto it =
            colon == std::string_view::npos ? values.end() : values.find(line.substr(0, colon));
        if (it == values.end() || (!m.swap_from_cgroup && it->first.starts_with("Swap"))) {
            out.append(line);
            out += '\n';
        } else {
            out += kb_line(it->first, it->second);
        }
    });
    return out;
}

std::string render_cpuinfo(std::string_view host_cpuinfo, const std::vector<unsigned>& visible) {
    std::string out;
    size_t shown = 0;
    std::string_view rest = host_cpuinfo;
    while (!rest.empty()) {
        size_t end = rest.find("\n\n");
        std::string_view block = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 2);
        auto first_nl = block.find('\n');
        auto head = words(block.substr(0, first_nl));
        if (head.size() != 3 || head[0] != "processor" || head[1] != ":") continue;
        unsigned id = static_cast<unsigned>(to_u64(head[2]));
        if (!std::binary_search(visible.begin(), visible.end(), id)) continue;
        out += fmt::format("processor\t: {}\n", shown++);
        if (first_nl != std::string_view::npos) out.append(block.substr(first_nl + 1));
        out += "\n\n";
    }
    // A layout without "processor : N" blocks (s390): shown as the host's.
    return shown ? out : std::string(host_cpuinfo);
}

std::string render_stat(std::string_view host_stat, const CgroupView& cg,
                        const std::vector<unsigned>& visible, long ticks_per_sec) {
    const uint64_t n = std::max<size_t>(visible.size(), 1);
    auto ticks = [&](uint64_t us) { return us * static_cast<uint64_t>(ticks_per_sec) / 1000000; };
    uint64_t user = ticks(cg.cpu_user_us) / n, system = ticks(cg.cpu_system_us) / n;
    std::vector<uint64_t> idle(visible.size(), 0);
    std::string rest_lines;
    for_each_line(host_stat, [&](std::string_view line) {
        if (line.empty()) return;
        auto w = words(line);
        if (w[0].starts_with("cpu")) {
            if (w[0].size() == 3) return;  // the total: recomputed below
            unsigned id = static_cast<unsigned>(to_u64(w[0].substr(3)));
            auto it = std::lower_bound(visible.begin(), visible.end(), id);
            if (it == visible.end() || *it != id) return;
            uint64_t total = 0;
            for (size_t i = 1; i < w.size() && i <= 8; ++i) total += to_u64(w[i]);  // to steal
            uint64_t used = user + system;
            idle[static_cast<size_t>(it - visible.begin())] = total > used ? total - used : 0;
            return;
        }
        if (w[0] == "procs_running") {
            rest_lines += fmt::format("procs_running {}\n", std::max<uint64_t>(cg.running, 1));
        } else if (w[0] == "procs_blocked") {
            rest_lines += "procs_blocked 0\n";
        } else {
            rest_lines.append(line);
            rest_lines += '\n';
        }
    });
    uint64_t idle_sum = 0;
    for (uint64_t i : idle) idle_sum += i;
    std::string out = fmt::format("cpu  {} 0 {} {} 0 0 0 0 0 0\n", user * n, system * n, idle_sum);
    for (size_t i = 0; i < visible.size(); ++i)
        out += fmt::format("cpu{} {} 0 {} {} 0 0 0 0 0 0\n", i, user, system, idle[i]);
    return out + rest_lines;
}

std::string render_loadavg(std::string_view host_loadavg, const double avg[3],
                           const CgroupView& cg) {
    auto w = words(host_loadavg.substr(0, host_loadavg.find('\n')));
    std::string_view last_pid = w.size() >= 5 ? w[4] : "0";
    return fmt::format("{:.2f} {:.2f} {:.2f} {}/{} {}\n", avg[0], avg[1], avg[2], cg.running,
                       cg.tasks, last_pid);
}

std::string render_diskstats(std::string_view host_diskstats, const CgroupView& cg) {
    std::string out;
    for_each_line(host_diskstats, [&](std::string_view line) {
        auto w = words(line);
        if (w.size() < 14) return;
        uint64_t major = to_u64(w[0]), minor = to_u64(w[1]);
        auto it = std::find_if(cg.disks.begin(), cg.disks.end(), [&](const DiskIo& d) {
            return d.major == major && d.minor == minor;
        });
        if (it == cg.disks.end() || (it->reads == 0 && it->writes == 0)) return;
        // major minor name, then reads merged sectors ms, writes merged sectors ms, the rest 0
        out += fmt::format("{:>4} {:>7} {} {} 0 {} 0 {} 0 {} 0", major, minor, w[2], it->reads,
                           it->read_bytes / 512, it->writes, it->write_bytes / 512);
        for (size_t i = 11; i < w.size(); ++i) out += " 0";
        out += '\n';
    });
    return out;
}

std::string render_swaps(std::string_view host_swaps, const CgroupView& cg) {
    if (!cg.swap_known || cg.swap_limit == kUnlimited || cg.mem_limit == kUnlimited)
        return std::string(host_swaps);
    std::string_view header = host_swaps.substr(0, host_swaps.find('\n'));
    uint64_t host_kb = 0;
    bool first = true;
    for_each_line(host_swaps, [&](std::string_view line) {
        auto w = words(line);
        if (!first && w.size() >= 3) host_kb += to_u64(w[2]);
        first = false;
    });
    std::string out = fmt::format("{}\n", header);
    uint64_t size_kb = std::min(cg.swap_limit / 1024, host_kb);
    if (size_kb > 0)
        out += fmt::format("none\t\t\t\t\tvirtual\t\t{}\t\t{}\t\t0\n", size_kb,
                           std::min(cg.swap_usage / 1024, size_kb));
    return out;
}

void LoadAverage::sample(double now, uint64_t runnable) {
    static constexpr double kPeriods[3] = {60, 300, 900};
    if (last >= 0 && now > last) {
        for (int i = 0; i < 3; ++i) {
            double a = std::exp(-(now - last) / kPeriods[i]);
            avg[i] = avg[i] * a + static_cast<double>(runnable) * (1 - a);
        }
    }
    last = now;
}

struct sysinfo render_sysinfo(const CgroupView& cg, std::string_view host_meminfo,
                              const LoadAverage& load, long uptime_secs) {
    MemoryNumbers m = memory_numbers(cg, host_meminfo);
    struct sysinfo si {};
    si.uptime = uptime_secs;
    for (int i = 0; i < 3; ++i)
        si.loads[i] = static_cast<unsigned long>(load.avg[i] * (1 << SI_LOAD_SHIFT));
    si.totalram = m.total;
    si.freeram = m.free;
    si.sharedram = m.shmem;
    si.bufferram = 0;
    si.totalswap = m.swap_total;
    si.freeswap = m.swap_free;
    si.procs = static_cast<unsigned short>(std::min<uint64_t>(cg.tasks, 65535));
    si.mem_unit = 1;
    return si;
}

}  // namespace husk::runtime::procvirt
