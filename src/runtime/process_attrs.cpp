#include "runtime/process_attrs.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include <fmt/format.h>

#include "sys/error.h"

namespace husk::runtime {
namespace {

struct Named {
    const char* name;
    uint64_t value;
};

constexpr Named kPolicies[] = {{"SCHED_OTHER", 0},   {"SCHED_FIFO", 1}, {"SCHED_RR", 2},
                               {"SCHED_BATCH", 3},   {"SCHED_ISO", 4},  {"SCHED_IDLE", 5},
                               {"SCHED_DEADLINE", 6}};
constexpr Named kSchedFlags[] = {
    {"SCHED_FLAG_RESET_ON_FORK", 0x01}, {"SCHED_FLAG_RECLAIM", 0x02},
    {"SCHED_FLAG_DL_OVERRUN", 0x04},    {"SCHED_FLAG_KEEP_POLICY", 0x08},
    {"SCHED_FLAG_KEEP_PARAMS", 0x10},   {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40}};
constexpr Named kIoprioClasses[] = {
    {"IOPRIO_CLASS_RT", 1}, {"IOPRIO_CLASS_BE", 2}, {"IOPRIO_CLASS_IDLE", 3}};
constexpr Named kMpolModes[] = {{"MPOL_DEFAULT", 0},
                                {"MPOL_PREFERRED", 1},
                                {"MPOL_BIND", 2},
                                {"MPOL_INTERLEAVE", 3},
                                {"MPOL_LOCAL", 4},
                                {"MPOL_PREFERRED_MANY", 5},
                                {"MPOL_WEIGHTED_INTERLEAVE", 6}};
constexpr Named kMpolFlags[] = {{"MPOL_F_STATIC_NODES", 1U << 15},
                                {"MPOL_F_RELATIVE_NODES", 1U << 14},
                                {"MPOL_F_NUMA_BALANCING", 1U << 13}};
constexpr int kMaxNumaNodes = 1024;

template <size_t N>
uint64_t value_of(const Named (&table)[N], const std::string& name, const std::string& field) {
    for (const auto& e : table)
        if (name == e.name) return e.value;
    throw Error(fmt::format("{}: \"{}\" is not supported", field, name));
}

// "0-3,7" → [lo, hi] pairs; the parser has checked the syntax.
template <typename F>
void each_in_list(const std::string& list, F&& f) {
    size_t i = 0;
    while (i < list.size()) {
        size_t end = list.find(',', i);
        if (end == std::string::npos) end = list.size();
        std::string item = list.substr(i, end - i);
        size_t dash = item.find('-');
        unsigned long lo = std::stoul(item.substr(0, dash));
        unsigned long hi = dash == std::string::npos ? lo : std::stoul(item.substr(dash + 1));
        for (unsigned long v = lo; v <= hi; ++v) f(v);
        i = end + 1;
    }
}

void plan_scheduler(const oci::Scheduler& s, ProcessAttrs& out) {
    auto& a = out.sched;
    a.policy = static_cast<uint32_t>(value_of(kPolicies, s.policy, "process.scheduler.policy"));
    for (size_t i = 0; i < s.flags.size(); ++i)
        a.flags |= value_of(kSchedFlags, s.flags[i], fmt::format("process.scheduler.flags[{}]", i));
    a.nice = s.nice;
    bool realtime = s.policy == "SCHED_FIFO" || s.policy == "SCHED_RR";
    if (realtime && (s.priority < 1 || s.priority > 99))
        throw Error(fmt::format("process.scheduler.priority: {} needs a priority of 1..99, got {}",
                                s.policy, s.priority));
    if (!realtime && s.priority != 0)
        throw Error(fmt::format("process.scheduler.priority: must be 0 for {}, got {}", s.policy,
                                s.priority));
    a.priority = static_cast<uint32_t>(s.priority);
    if (s.policy == "SCHED_DEADLINE") {
        uint64_t period = s.period ? s.period : s.deadline;
        if (s.runtime == 0 || s.deadline < s.runtime || period < s.deadline)
            throw Error(
                "process.scheduler: SCHED_DEADLINE needs 0 < runtime <= deadline <= period");
    } else if (s.runtime || s.deadline || s.period) {
        throw Error(fmt::format(
            "process.scheduler: runtime, deadline and period apply to SCHED_DEADLINE only, not {}",
            s.policy));
    }
    a.runtime = s.runtime;
    a.deadline = s.deadline;
    a.period = s.period;
    out.set_scheduler = true;
}

void plan_memory_policy(const oci::MemoryPolicy& m, ProcessAttrs& out) {
    auto mode = static_cast<int>(value_of(kMpolModes, m.mode, "linux.memoryPolicy.mode"));
    bool no_nodes = m.mode == "MPOL_DEFAULT" || m.mode == "MPOL_LOCAL";
    if (no_nodes && !m.nodes.empty())
        throw Error(fmt::format("linux.memoryPolicy.nodes: must be empty for {}", m.mode));
    if (!no_nodes && m.mode != "MPOL_PREFERRED" && m.nodes.empty())
        throw Error(fmt::format("linux.memoryPolicy.nodes: {} needs a list of nodes", m.mode));
    for (size_t i = 0; i < m.flags.size(); ++i)
        mode |= static_cast<int>(
            value_of(kMpolFlags, m.flags[i], fmt::format("linux.memoryPolicy.flags[{}]", i)));
    constexpr size_t kBits = sizeof(unsigned long) * CHAR_BIT;
    if (!m.nodes.empty()) {
        out.mempolicy_nodes.assign(kMaxNumaNodes / kBits, 0);
        each_in_list(m.nodes, [&](unsigned long n) {
            if (n >= kMaxNumaNodes)
                throw Error(fmt::format("linux.memoryPolicy.nodes: node {} is beyond {}", n,
                                        kMaxNumaNodes - 1));
            out.mempolicy_nodes[n / kBits] |= 1UL << (n % kBits);
        });
    }
    out.mempolicy_mode = mode;
    out.set_mempolicy = true;
}

}  // namespace

cpu_set_t parse_cpu_set(const std::string& list, const std::string& field) {
    cpu_set_t set;
    CPU_ZERO(&set);
    each_in_list(list, [&](unsigned long cpu) {
        if (cpu >= CPU_SETSIZE)
            throw Error(fmt::format("{}: CPU {} is beyond {}", field, cpu, CPU_SETSIZE - 1));
        CPU_SET(cpu, &set);
    });
    return set;
}

void plan_process_attrs(const oci::Process& pr, const oci::MemoryPolicy* mp, bool exec,
                        ProcessAttrs& out) {
    if (pr.scheduler) plan_scheduler(*pr.scheduler, out);
    if (pr.io_priority) {
        auto cls = value_of(kIoprioClasses, pr.io_priority->io_class, "process.ioPriority.class");
        out.ioprio = static_cast<int>(cls << 13) | pr.io_priority->priority;
        out.set_ioprio = true;
    }
    if (mp) plan_memory_policy(*mp, out);
    // Not applicable to the init (runtime-spec); exec applies `initial` in the parent.
    if (exec && pr.exec_cpu_affinity && !pr.exec_cpu_affinity->final_.empty()) {
        out.final_affinity =
            parse_cpu_set(pr.exec_cpu_affinity->final_, "process.execCPUAffinity.final");
    }
}

// --- child side: runs between clone and execve ---
int apply_process_attrs(const ProcessAttrs& a, const char** step) noexcept {
    if (a.set_scheduler && ::syscall(SYS_sched_setattr, 0, &a.sched, 0) != 0) {
        *step = "sched_setattr (process.scheduler)";
        return -errno;
    }
    constexpr int kWhoProcess = 1;  // IOPRIO_WHO_PROCESS
    if (a.set_ioprio && ::syscall(SYS_ioprio_set, kWhoProcess, 0, a.ioprio) != 0) {
        *step = "ioprio_set (process.ioPriority)";
        return -errno;
    }
    if (a.set_mempolicy) {
        const unsigned long* nodes = a.mempolicy_nodes.empty() ? nullptr : a.mempolicy_nodes.data();
        // The kernel reads maxnode - 1 bits (a historical off-by-one every caller follows).
        unsigned long maxnode = a.mempolicy_nodes.size() * sizeof(unsigned long) * CHAR_BIT + 1;
        if (::syscall(SYS_set_mempolicy, a.mempolicy_mode, nodes, maxnode) != 0) {
            *step = "set_mempolicy (linux.memoryPolicy)";
            return -errno;
        }
    }
    if (::sched_setaffinity(0, sizeof a.final_affinity, &a.final_affinity) != 0) {
        *step = "sched_setaffinity (process.execCPUAffinity.final, else every CPU)";
        return -errno;
    }
    return 0;
}

// --- end child side ---

}  // namespace husk::runtime
