// Process attributes of runtime-spec 1.2/1.3 that the kernel keeps per task:
// process.scheduler (sched_setattr), process.ioPriority (ioprio_set),
// linux.memoryPolicy (set_mempolicy) and process.execCPUAffinity (exec only).
// The parent validates and converts them into a Plan; the init (or the exec'd
// process) applies them with apply_process_attrs, async-signal-safe.
#pragma once

#include <sched.h>

#include <cstdint>
#include <string>
#include <vector>

#include "oci/spec.h"

namespace husk::runtime {

inline cpu_set_t all_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < CPU_SETSIZE; ++i) CPU_SET(i, &set);
    return set;
}

struct ProcessAttrs {
    // struct sched_attr (SCHED_ATTR_SIZE_VER1), filled by the parent.
    struct SchedAttr {
        uint32_t size = 56;
        uint32_t policy = 0;
        uint64_t flags = 0;
        int32_t nice = 0;
        uint32_t priority = 0;
        uint64_t runtime = 0, deadline = 0, period = 0;
        uint32_t util_min = 0, util_max = 0;
    };
    bool set_scheduler = false;
    SchedAttr sched;
    bool set_ioprio = false;
    int ioprio = 0;  // IOPRIO_PRIO_VALUE(class, data)
    bool set_mempolicy = false;
    int mempolicy_mode = 0;                      // MPOL_* | MPOL_F_* flags
    std::vector<unsigned long> mempolicy_nodes;  // node bitmask (empty: none)
    // The CPUs the process ends on: execCPUAffinity.final for exec, else every CPU (the
    // kernel narrows it to the cgroup's cpuset), so a runtime started under `taskset` does
    // not pin the container: runc resets it too.
    cpu_set_t final_affinity = all_cpus();
};

// process.scheduler / process.ioPriority (and, for exec, execCPUAffinity.final) and
// linux.memoryPolicy; throws naming the field ("process.scheduler.priority: ...").
void plan_process_attrs(const oci::Process& process, const oci::MemoryPolicy* memory_policy,
                        bool exec, ProcessAttrs& out);

// "0-3,7" (already validated by the parser) as a CPU set; throws naming `field` when a
// CPU is beyond what cpu_set_t holds.
cpu_set_t parse_cpu_set(const std::string& list, const std::string& field);

// Apply them to the calling task. Returns 0, or -errno with *step naming the call.
int apply_process_attrs(const ProcessAttrs& a, const char** step) noexcept;

}  // namespace husk::runtime
