// --proc-virtualize: the host's /proc texts rewritten with a container's cgroup numbers
// (cgroup v1 and v2 names), from fixture inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>

#include "runtime/procvirt_render.h"

namespace husk::runtime::procvirt {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

constexpr const char* kHostMeminfo =
    "MemTotal:       24576000 kB\n"
    "MemFree:        20000000 kB\n"
    "MemAvailable:   22000000 kB\n"
    "Buffers:          100000 kB\n"
    "Cached:          1500000 kB\n"
    "SwapCached:            0 kB\n"
    "Active:          1000000 kB\n"
    "Inactive:         900000 kB\n"
    "SwapTotal:       2097148 kB\n"
    "SwapFree:        2097148 kB\n"
    "Shmem:             12000 kB\n"
    "VmallocTotal:   34359738367 kB\n"
    "HugePages_Total:       0\n";

constexpr const char* kHostCpuinfo =
    "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Test CPU\n\n"
    "processor\t: 1\nvendor_id\t: GenuineIntel\nmodel name\t: Test CPU\n\n"
    "processor\t: 2\nvendor_id\t: GenuineIntel\nmodel name\t: Test CPU\n\n"
    "processor\t: 3\nvendor_id\t: GenuineIntel\nmodel name\t: Test CPU\n\n";

constexpr const char* kHostStat =
    "cpu  400 0 200 10000 0 0 0 0 0 0\n"
    "cpu0 100 0 50 2500 0 0 0 0 0 0\n"
    "cpu1 100 0 50 2500 0 0 0 0 0 0\n"
    "cpu2 100 0 50 2500 0 0 0 0 0 0\n"
    "cpu3 100 0 50 2500 0 0 0 0 0 0\n"
    "intr 12345\n"
    "ctxt 678\n"
    "btime 1700000000\n"
    "processes 999\n"
    "procs_running 7\n"
    "procs_blocked 2\n";

std::string line_of(const std::string& text, const std::string& key) {
    size_t at = text.find(key);
    if (at == std::string::npos) return "";
    return text.substr(at, text.find('\n', at) - at);
}

CgroupView v2_limited() {
    CgroupView cg;
    cg.mem_limit = 256 * kMiB;
    cg.mem_usage = 56 * kMiB;
    cg.mem_stat = {{"file", 20 * kMiB},          {"anon", 30 * kMiB},
                   {"shmem", 4 * kMiB},          {"active_file", 8 * kMiB},
                   {"inactive_file", 10 * kMiB}, {"slab_reclaimable", 2 * kMiB}};
    cg.swap_known = true;
    cg.swap_limit = 64 * kMiB;
    cg.swap_usage = 16 * kMiB;
    return cg;
}

TEST(ProcvirtCpuList, ParsesRangesAndSinglesSortedAndUnique) {
    EXPECT_EQ(parse_cpu_list("0-3,5\n"), (std::vector<unsigned>{0, 1, 2, 3, 5}));
    EXPECT_EQ(parse_cpu_list("7,2,2"), (std::vector<unsigned>{2, 7}));
    EXPECT_TRUE(parse_cpu_list("\n").empty());
    EXPECT_EQ(parse_cpu_list("x,4"), (std::vector<unsigned>{4}));
}

TEST(ProcvirtCpuList, RangeRenumberedFromZero) {
    EXPECT_EQ(render_cpu_range(1), "0\n");
    EXPECT_EQ(render_cpu_range(4), "0-3\n");
}

TEST(ProcvirtVisibleCpus, QuotaCutsTheCpusetRoundingUp) {
    std::vector<unsigned> online = {0, 1, 2, 3};
    CgroupView cg;
    EXPECT_EQ(visible_cpus(cg, online), online);
    cg.cpu_quota_us = 100000;
    cg.cpu_period_us = 100000;
    EXPECT_EQ(visible_cpus(cg, online), (std::vector<unsigned>{0}));
    cg.cpu_quota_us = 150000;  // 1.5 CPUs: two are used
    EXPECT_EQ(visible_cpus(cg, online), (std::vector<unsigned>{0, 1}));
    cg.cpuset = {2, 3};
    cg.cpu_quota_us = 0;
    EXPECT_EQ(visible_cpus(cg, online), (std::vector<unsigned>{2, 3}));
    cg.cpuset = {9};  // not online: fall back to what is
    EXPECT_EQ(visible_cpus(cg, online), online);
}

TEST(ProcvirtAffinity, QuotaCpusRoundsUpAndIsZeroWithoutQuota) {
    CgroupView cg;
    EXPECT_EQ(quota_cpus(cg), 0U);
    cg.cpu_period_us = 100000;
    cg.cpu_quota_us = 100000;
    EXPECT_EQ(quota_cpus(cg), 1U);
    cg.cpu_quota_us = 150000;
    EXPECT_EQ(quota_cpus(cg), 2U);
    cg.cpu_quota_us = 1000;  // a hundredth of a CPU still shows one
    EXPECT_EQ(quota_cpus(cg), 1U);
}

TEST(ProcvirtAffinity, NarrowKeepsTheFirstCpusOfTheMask) {
    // CPUs 1, 3, 8 and 63 set in an 8-byte (one long) mask
    unsigned char mask[8] = {0x0a, 0x01, 0, 0, 0, 0, 0, 0x80};
    unsigned char two[8] = {0x0a, 0, 0, 0, 0, 0, 0, 0};
    EXPECT_TRUE(narrow_affinity(mask, sizeof mask, 2));
    EXPECT_EQ(std::memcmp(mask, two, sizeof mask), 0);
    EXPECT_FALSE(narrow_affinity(mask, sizeof mask, 2));  // already that narrow
    EXPECT_FALSE(narrow_affinity(mask, sizeof mask, 5));
    EXPECT_TRUE(narrow_affinity(mask, sizeof mask, 1));
    EXPECT_EQ(mask[0], 0x02);
}

TEST(ProcvirtMeminfo, LimitIsTotalAndUsageMovesFreeAndAvailable) {
    CgroupView cg = v2_limited();
    std::string out = render_meminfo(kHostMeminfo, cg);
    EXPECT_EQ(line_of(out, "MemTotal:"), "MemTotal:         262144 kB");
    EXPECT_EQ(line_of(out, "MemFree:"), "MemFree:          204800 kB");  // 256 - 56 MiB
    // free + reclaimable file and slab: 200 + 8 + 10 + 2 MiB
    EXPECT_EQ(line_of(out, "MemAvailable:"), "MemAvailable:     225280 kB");
    EXPECT_EQ(line_of(out, "Cached:"), "Cached:            16384 kB");  // file - shmem
    EXPECT_EQ(line_of(out, "Buffers:"), "Buffers:               0 kB");
    EXPECT_EQ(line_of(out, "SwapTotal:"), "SwapTotal:         65536 kB");
    EXPECT_EQ(line_of(out, "SwapFree:"), "SwapFree:          49152 kB");
    // lines without a cgroup counterpart stay the host's
    EXPECT_EQ(line_of(out, "VmallocTotal:"), "VmallocTotal:   34359738367 kB");
    EXPECT_EQ(line_of(out, "HugePages_Total:"), "HugePages_Total:       0");

    cg.mem_usage += 100 * kMiB;  // a program allocated 100 MiB
    std::string after = render_meminfo(kHostMeminfo, cg);
    EXPECT_EQ(line_of(after, "MemAvailable:"), "MemAvailable:     122880 kB");
}

TEST(ProcvirtMeminfo, CgroupV1NamesAreRead) {
    CgroupView cg;
    cg.v1_memory = true;
    cg.mem_limit = 512 * kMiB;
    cg.mem_usage = 12 * kMiB;
    cg.mem_stat = {{"total_cache", 6 * kMiB},
                   {"total_shmem", 1 * kMiB},
                   {"cache", 99 * kMiB}};  // the non-hierarchical name is not used
    std::string out = render_meminfo(kHostMeminfo, cg);
    EXPECT_EQ(line_of(out, "MemTotal:"), "MemTotal:         524288 kB");
    EXPECT_EQ(line_of(out, "Cached:"), "Cached:             5120 kB");
    // no swap accounting: the host's swap lines
    EXPECT_EQ(line_of(out, "SwapTotal:"), "SwapTotal:       2097148 kB");
}

TEST(ProcvirtMeminfo, NoMemoryLimitShowsTheHost) {
    CgroupView cg;
    cg.cpu_quota_us = 100000;
    cg.cpu_period_us = 100000;
    EXPECT_EQ(render_meminfo(kHostMeminfo, cg), kHostMeminfo);
}

TEST(ProcvirtMeminfo, LimitAboveTheHostIsCappedAtTheHost) {
    CgroupView cg;
    cg.mem_limit = 1024ULL * 1024 * kMiB;
    MemoryNumbers m = memory_numbers(cg, kHostMeminfo);
    EXPECT_EQ(m.total, 24576000ULL * 1024);
}

TEST(ProcvirtCpuinfo, OnlyVisibleProcessorsRenumbered) {
    std::string out = render_cpuinfo(kHostCpuinfo, {2, 3});
    EXPECT_EQ(out,
              "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Test CPU\n\n"
              "processor\t: 1\nvendor_id\t: GenuineIntel\nmodel name\t: Test CPU\n\n");
}

TEST(ProcvirtCpuinfo, UnknownLayoutIsTheHosts) {
    std::string s390 = "vendor_id       : IBM/S390\n# processors    : 2\n";
    EXPECT_EQ(render_cpuinfo(s390, {0}), s390);
}

TEST(ProcvirtStat, ContainerUsageOverItsCpusIdleIsTheRest) {
    CgroupView cg;
    cg.cpu_user_us = 2000000;    // 2 s = 200 ticks at 100 Hz
    cg.cpu_system_us = 1000000;  // 1 s = 100 ticks
    cg.running = 3;
    std::string out = render_stat(kHostStat, cg, {1, 3}, 100);
    EXPECT_EQ(out,
              "cpu  200 0 100 5000 0 0 0 0 0 0\n"
              "cpu0 100 0 50 2500 0 0 0 0 0 0\n"
              "cpu1 100 0 50 2500 0 0 0 0 0 0\n"
              "intr 12345\nctxt 678\nbtime 1700000000\nprocesses 999\n"
              "procs_running 3\nprocs_blocked 0\n");
}

TEST(ProcvirtLoadavg, OwnTasksAndDampedAverages) {
    LoadAverage load;
    load.sample(0, 2);
    EXPECT_EQ(load.avg[0], 0);
    load.sample(60, 2);  // one minute at 2 runnable: 1 - e^-1 of the way
    EXPECT_NEAR(load.avg[0], 2 * (1 - std::exp(-1.0)), 1e-9);
    CgroupView cg;
    cg.running = 2;
    cg.tasks = 5;
    double avg[3] = {1.5, 0.25, 0};
    EXPECT_EQ(render_loadavg("0.50 0.40 0.30 1/300 4242\n", avg, cg), "1.50 0.25 0.00 2/5 4242\n");
}

TEST(ProcvirtDiskstats, OnlyDevicesTheContainerUsedWithItsCounters) {
    std::string host =
        "   8       0 sda 100 5 2000 30 50 2 800 20 0 40 60 0 0 0 0 0 0\n"
        "   8      16 sdb 1 0 8 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
    CgroupView cg;
    cg.disks = {{8, 0, 4096, 1024, 3, 1}};
    EXPECT_EQ(render_diskstats(host, cg), "   8       0 sda 3 0 8 0 1 0 2 0 0 0 0 0 0 0 0 0 0\n");
}

TEST(ProcvirtSwaps, SwapLimitIsOneVirtualDevice) {
    std::string host =
        "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
        "/dev/sda2                               partition\t2097148\t\t0\t\t-2\n";
    CgroupView cg = v2_limited();
    EXPECT_EQ(render_swaps(host, cg),
              "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
              "none\t\t\t\t\tvirtual\t\t65536\t\t16384\t\t0\n");
    cg.swap_limit = kUnlimited;
    EXPECT_EQ(render_swaps(host, cg), host);
}

TEST(ProcvirtSysinfo, SameNumbersAsMeminfo) {
    CgroupView cg = v2_limited();
    cg.tasks = 4;
    LoadAverage load;
    load.avg[0] = 1.0;
    struct sysinfo si = render_sysinfo(cg, kHostMeminfo, load, 42);
    EXPECT_EQ(si.totalram, 256 * kMiB);
    EXPECT_EQ(si.freeram, 200 * kMiB);
    EXPECT_EQ(si.totalswap, 64 * kMiB);
    EXPECT_EQ(si.freeswap, 48 * kMiB);
    EXPECT_EQ(si.procs, 4);
    EXPECT_EQ(si.uptime, 42);
    EXPECT_EQ(si.loads[0], 1UL << SI_LOAD_SHIFT);
    EXPECT_EQ(si.mem_unit, 1U);
}

}  // namespace
}  // namespace husk::runtime::procvirt
