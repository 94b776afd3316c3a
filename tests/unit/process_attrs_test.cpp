// process.scheduler, process.ioPriority, linux.memoryPolicy, execCPUAffinity and
// linux.timeOffsets turned into what the init hands the kernel; bad values name the field.
#include <gtest/gtest.h>
#include <sched.h>

#include <string>

#include "runtime/process_attrs.h"
#include "runtime/timens.h"
#include "sys/error.h"

using namespace husk::runtime;
using husk::oci::MemoryPolicy;
using husk::oci::Process;
using husk::oci::Scheduler;

namespace {

// The message of the husk::Error `f` throws ("" when it does not).
template <typename F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const husk::Error& e) {
        return e.what();
    }
    return "";
}

ProcessAttrs plan(const Process& p, const MemoryPolicy* mp = nullptr, bool exec = false) {
    ProcessAttrs a;
    plan_process_attrs(p, mp, exec, a);
    return a;
}

}  // namespace

TEST(ProcessAttrs, SchedulerBecomesSchedAttr) {
    Process p;
    p.scheduler = Scheduler{"SCHED_RR", -5, 10, {"SCHED_FLAG_RESET_ON_FORK"}, 0, 0, 0};
    ProcessAttrs a = plan(p);
    ASSERT_TRUE(a.set_scheduler);
    EXPECT_EQ(a.sched.size, 56u);
    EXPECT_EQ(a.sched.policy, 2u);
    EXPECT_EQ(a.sched.priority, 10u);
    EXPECT_EQ(a.sched.nice, -5);
    EXPECT_EQ(a.sched.flags, 1u);
    EXPECT_FALSE(a.set_ioprio);
    EXPECT_FALSE(a.set_mempolicy);
}

TEST(ProcessAttrs, SchedulerPriorityAndDeadlineRules) {
    Process p;
    p.scheduler = Scheduler{"SCHED_FIFO", 0, 0, {}, 0, 0, 0};
    EXPECT_NE(error_of([&] { plan(p); }).find("process.scheduler.priority"), std::string::npos);
    p.scheduler = Scheduler{"SCHED_OTHER", 0, 3, {}, 0, 0, 0};
    EXPECT_NE(error_of([&] { plan(p); }).find("process.scheduler.priority"), std::string::npos);
    p.scheduler = Scheduler{"SCHED_DEADLINE", 0, 0, {}, 10, 5, 20};
    EXPECT_NE(error_of([&] { plan(p); }).find("SCHED_DEADLINE"), std::string::npos);
    p.scheduler = Scheduler{"SCHED_DEADLINE", 0, 0, {}, 5, 10, 20};
    EXPECT_EQ(error_of([&] { plan(p); }), "");
    p.scheduler = Scheduler{"SCHED_BATCH", 0, 0, {}, 5, 0, 0};
    EXPECT_NE(error_of([&] { plan(p); }).find("SCHED_DEADLINE only"), std::string::npos);
}

TEST(ProcessAttrs, IoPriorityValue) {
    Process p;
    p.io_priority = husk::oci::IoPriority{"IOPRIO_CLASS_IDLE", 7};
    ProcessAttrs a = plan(p);
    ASSERT_TRUE(a.set_ioprio);
    EXPECT_EQ(a.ioprio, (3 << 13) | 7);
}

TEST(ProcessAttrs, MemoryPolicyModesNodesAndFlags) {
    Process p;
    MemoryPolicy m{"MPOL_INTERLEAVE", "0-2,5", {"MPOL_F_STATIC_NODES"}};
    ProcessAttrs a = plan(p, &m);
    ASSERT_TRUE(a.set_mempolicy);
    EXPECT_EQ(a.mempolicy_mode, 3 | (1 << 15));
    ASSERT_FALSE(a.mempolicy_nodes.empty());
    EXPECT_EQ(a.mempolicy_nodes[0], 0b100111UL);
    MemoryPolicy local{"MPOL_LOCAL", "1", {}};
    EXPECT_NE(error_of([&] { plan(p, &local); }).find("linux.memoryPolicy.nodes"),
              std::string::npos);
    MemoryPolicy bind{"MPOL_BIND", "", {}};
    EXPECT_NE(error_of([&] { plan(p, &bind); }).find("linux.memoryPolicy.nodes"),
              std::string::npos);
    MemoryPolicy far{"MPOL_BIND", "5000", {}};
    EXPECT_NE(error_of([&] { plan(p, &far); }).find("node 5000"), std::string::npos);
}

TEST(ProcessAttrs, FinalAffinityIsEveryCpuUnlessExecSaysOtherwise) {
    Process p;
    p.exec_cpu_affinity = husk::oci::CpuAffinity{"0", "1,3"};
    ProcessAttrs init = plan(p);  // not applicable to the init: every CPU
    EXPECT_EQ(CPU_COUNT(&init.final_affinity), CPU_SETSIZE);
    ProcessAttrs exec = plan(p, nullptr, true);
    EXPECT_EQ(CPU_COUNT(&exec.final_affinity), 2);
    EXPECT_TRUE(CPU_ISSET(1, &exec.final_affinity));
    EXPECT_TRUE(CPU_ISSET(3, &exec.final_affinity));
    EXPECT_NE(error_of([] {
                  parse_cpu_set("5000", "process.execCPUAffinity.initial");
              }).find("process.execCPUAffinity.initial"),
              std::string::npos);
}

TEST(TimeNamespace, OffsetsText) {
    std::map<std::string, husk::oci::TimeOffset> off{{"boottime", {86400, 5}},
                                                     {"monotonic", {-10, 0}}};
    EXPECT_EQ(format_time_offsets(off), "boottime 86400 5\nmonotonic -10 0\n");
}
