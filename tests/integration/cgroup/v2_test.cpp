// cgroup v2 for real. On a hybrid host scripts/cgroup-v2-test.sh moves one free v1
// controller (pids, cpu or blkio) to cgroup2 and tells us which in
// HUSK_V2_CONTROLLER ("all" on a pure v2 host); the script restores it afterwards.
#include <cstdlib>

#include "helpers.h"
#include "runtime/cgroup/manager.h"
#include "sys/error.h"

namespace husk::cgtest {
namespace {

using runtime::cgroup::Manager;
using runtime::cgroup::read_file;

struct V2Environment : Environment {
    void SetUp() override {
        root_prefix() = "cgroup-v2test";
        Environment::SetUp();
    }
};
[[maybe_unused]] auto* const env = ::testing::AddGlobalTestEnvironment(new V2Environment);

// The controller moved to cgroup2 for this run, or "" (then the tests skip).
std::string moved() {
    const char* c = std::getenv("HUSK_V2_CONTROLLER");
    return c ? c : "";
}

bool testing(const std::string& controller) {
    return moved() == controller || moved() == "all";
}

#define REQUIRE_V2(controller)                                     \
    if (!testing(controller))                                      \
    GTEST_SKIP() << "cgroup v2 " controller                        \
                    " is not available for this run (run through " \
                    "scripts/cgroup-v2-test.sh; moved: '"          \
                 << moved() << "')"

TEST(CgroupV2, PidsLimitAndForkBomb) {
    REQUIRE_V2("pids");
    oci::Resources r;
    r.pids.emplace().limit = 20;
    auto mgr = Manager::create(test_path("pids"), "pids", &r);
    ASSERT_TRUE(mgr->is_v2("pids"));
    const std::string dir = mgr->dir_of("pids");
    EXPECT_EQ(dir, mgr->dir_of(""));
    EXPECT_EQ(read_file(dir, "pids.max"), "20");
    // Enabled for us from the cgroup2 root down to the container's parent.
    EXPECT_NE(read_file(dir.substr(0, dir.rfind('/')), "cgroup.subtree_control").find("pids"),
              std::string::npos);

    Child child(fork_until_refused);
    mgr->add_pid(child.pid());
    child.release();
    ASSERT_TRUE(eventually([&] { return mgr->pids().size() == 20; })) << mgr->pids().size();
    EXPECT_EQ(read_file(dir, "pids.current"), "20");
    EXPECT_EQ(mgr->stats().pids_current, 20u);
    EXPECT_EQ(mgr->stats().pids_limit, 20u);

    oci::Resources more;
    more.pids.emplace().limit = 30;
    mgr->update(more);
    EXPECT_EQ(read_file(dir, "pids.max"), "30");

    kill_and_destroy(*mgr, child);
}

TEST(CgroupV2, CpuWeightAndMax) {
    REQUIRE_V2("cpu");
    oci::Resources r;
    auto& c = r.cpu.emplace();
    c.shares = 1024;
    c.quota = 50000;
    c.period = 100000;
    c.burst = 10000;
    auto mgr = Manager::create(test_path("cpu"), "cpu", &r);
    ASSERT_TRUE(mgr->is_v2("cpu"));
    const std::string dir = mgr->dir_of("cpu");
    EXPECT_EQ(read_file(dir, "cpu.weight"), "39");  // runc 1.1: 1 + (1022 * 9999) / 262142
    EXPECT_EQ(read_file(dir, "cpu.max"), "50000 100000");
    EXPECT_EQ(read_file(dir, "cpu.max.burst"), "10000");
    // update with only the period keeps the quota.
    oci::Resources upd;
    upd.cpu.emplace().period = 200000;
    mgr->update(upd);
    EXPECT_EQ(read_file(dir, "cpu.max"), "50000 200000");
    oci::Resources idle;
    idle.cpu.emplace().idle = 1;
    mgr->update(idle);
    EXPECT_EQ(read_file(dir, "cpu.idle"), "1");
    mgr->destroy();
    for (const auto& d : mgr->dirs()) EXPECT_FALSE(exists(d)) << d;
}

TEST(CgroupV2, IoMaxAndWeight) {
    REQUIRE_V2("io");
    std::string dev;
    for (const char* name : {"vda", "sda", "nvme0n1", "xvda", "ram0"})
        if (runtime::cgroup::try_read_file(fmt::format("/sys/block/{}/dev", name), dev)) break;
    if (dev.empty()) GTEST_SKIP() << "no block device";
    unsigned major = 0, minor = 0;
    std::sscanf(dev.c_str(), "%u:%u", &major, &minor);
    oci::Resources r;
    auto& b = r.block_io.emplace();
    b.weight = 500;
    b.throttle_read_bps_device.push_back({major, minor, 1048576});
    b.throttle_write_iops_device.push_back({major, minor, 300});
    auto mgr = Manager::create(test_path("io"), "io", &r);
    ASSERT_TRUE(mgr->is_v2("io"));
    const std::string dir = mgr->dir_of("io");
    EXPECT_EQ(read_file(dir, "io.max"),
              fmt::format("{} rbps=1048576 wbps=max riops=max wiops=300", dev));
    if (runtime::cgroup::file_exists(dir, "io.bfq.weight")) {
        EXPECT_NE(read_file(dir, "io.bfq.weight").find("500"), std::string::npos);
    } else if (runtime::cgroup::file_exists(dir, "io.weight")) {
        EXPECT_NE(read_file(dir, "io.weight").find("default 4950"),
                  std::string::npos);  // 1 + 490 * 9999 / 990
    }
    mgr->destroy();
}

}  // namespace
}  // namespace husk::cgtest
