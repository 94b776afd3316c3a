// The v1 and v2 backends write the right values to the right files: run against
// a plain directory standing in for a cgroup (no root, no kernel). Kernel
// behaviour itself is covered by tests/integration/cgroup.
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "runtime/cgroup/backends.h"
#include "runtime/cgroup/file.h"
#include "sys/error.h"

namespace husk::runtime::cgroup {
namespace {

namespace fs = std::filesystem;

class CgroupBackendFiles : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/cgroup-unit-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { fs::remove_all(dir_); }
    // Create empty files, as the kernel offers them.
    void offer(std::initializer_list<const char*> files) {
        for (const char* f : files) std::ofstream(dir_ + "/" + f).flush();
    }
    std::string get(const char* f) { return read_file(dir_, f); }
    std::string dir_;
};

TEST_F(CgroupBackendFiles, V2Memory) {
    offer({"memory.max", "memory.swap.max", "memory.low"});
    oci::MemoryResources m;
    m.limit = 32 << 20;
    m.swap = 96 << 20;
    m.reservation = 16 << 20;
    v2::memory(dir_, m, false);
    EXPECT_EQ(get("memory.max"), "33554432");
    EXPECT_EQ(get("memory.swap.max"), "67108864");  // swap - limit
    EXPECT_EQ(get("memory.low"), "16777216");
}

TEST_F(CgroupBackendFiles, V2MemoryUnlimited) {
    offer({"memory.max", "memory.swap.max"});
    oci::MemoryResources m;
    m.limit = -1;
    m.swap = -1;
    v2::memory(dir_, m, false);
    EXPECT_EQ(get("memory.max"), "max");
    EXPECT_EQ(get("memory.swap.max"), "max");
}

TEST_F(CgroupBackendFiles, V2CpuAndCpuset) {
    offer({"cpu.weight", "cpu.max", "cpu.max.burst", "cpu.idle", "cpuset.cpus", "cpuset.mems"});
    oci::CpuResources c;
    c.shares = 2048;
    c.quota = 25000;
    c.burst = 5000;
    c.cpus = "0-1";
    c.mems = "0";
    v2::cpu(dir_, c);
    v2::cpuset(dir_, c);
    EXPECT_EQ(get("cpu.weight"), "79");  // 1 + (2046 * 9999) / 262142
    EXPECT_EQ(get("cpu.max"), "25000 100000");
    EXPECT_EQ(get("cpu.max.burst"), "5000");
    EXPECT_EQ(get("cpuset.cpus"), "0-1");
    EXPECT_EQ(get("cpuset.mems"), "0");
}

TEST_F(CgroupBackendFiles, V2IoWeightConvertedWithoutBfq) {
    offer({"io.weight", "io.max"});
    oci::BlockIoResources b;
    b.weight = 1000;
    b.throttle_write_bps_device.push_back({8, 0, 4096});
    v2::io(dir_, b);
    EXPECT_EQ(get("io.weight"), "default 10000");
    EXPECT_EQ(get("io.max"), "8:0 wbps=4096");
}

TEST_F(CgroupBackendFiles, V2IoBfqTakesBlkioScale) {
    offer({"io.bfq.weight", "io.weight"});
    oci::BlockIoResources b;
    b.weight = 300;
    v2::io(dir_, b);
    EXPECT_EQ(get("io.bfq.weight"), "300");
    EXPECT_EQ(get("io.weight"), "");
}

TEST_F(CgroupBackendFiles, V2PidsHugetlbRdmaUnified) {
    offer({"pids.max", "hugetlb.2MB.max", "rdma.max", "memory.high"});
    v2::pids(dir_, {0});
    EXPECT_EQ(get("pids.max"), "max");
    v2::hugetlb(dir_, {{"2MB", 8 << 20}});
    EXPECT_EQ(get("hugetlb.2MB.max"), "8388608");
    v2::rdma(dir_, {{"mlx5_0", {10, std::nullopt}}});
    EXPECT_EQ(get("rdma.max"), "mlx5_0 hca_handle=10 hca_object=max");
    v2::unified(dir_, {{"memory.high", "50000000"}});
    EXPECT_EQ(get("memory.high"), "50000000");
    EXPECT_THROW(v2::unified(dir_, {{"memory.nosuch", "1"}}), Error);
}

TEST_F(CgroupBackendFiles, V1NetAndRdma) {
    offer({"net_cls.classid", "net_prio.ifpriomap", "rdma.max"});
    oci::NetworkResources n;
    n.class_id = 0x100001;
    n.priorities.push_back({"eth0", 7});
    v1::net_cls(dir_, n);
    v1::net_prio(dir_, n);
    EXPECT_EQ(get("net_cls.classid"), "1048577");
    EXPECT_EQ(get("net_prio.ifpriomap"), "eth0 7");
    v1::rdma(dir_, {{"mlx4_0", {2, 2000}}});
    EXPECT_EQ(get("rdma.max"), "mlx4_0 hca_handle=2 hca_object=2000");
}

TEST_F(CgroupBackendFiles, V1MemoryWithSwap) {
    // (The order memsw/limit matters only to the kernel: covered by the integration tests.)
    offer({"memory.limit_in_bytes", "memory.memsw.limit_in_bytes"});
    std::ofstream(dir_ + "/memory.limit_in_bytes") << "1048576";
    oci::MemoryResources m;
    m.limit = 64 << 20;
    m.swap = 128 << 20;
    v1::memory(dir_, m, false);
    EXPECT_EQ(get("memory.limit_in_bytes"), "67108864");
    EXPECT_EQ(get("memory.memsw.limit_in_bytes"), "134217728");
}

TEST_F(CgroupBackendFiles, ErrorsNameFileAndValue) {
    try {
        write_file(dir_ + "/missing", "pids.max", "max");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "write \"max\" to \"" + dir_ +
                      "/missing/pids.max\": ENOENT (No such file or directory)");
    }
}

// v1 devices: every rule one write(2), in order, to its file (kept open across the rules;
// a plain file shows the writes one after another where the kernel takes each as a rule).
TEST_F(CgroupBackendFiles, V1DevicesOneWritePerRuleInOrder) {
    offer({"devices.allow", "devices.deny"});
    v1::devices(dir_, {{false, "a", std::nullopt, std::nullopt, "rwm"},
                       {true, "c", 1, 3, "rwm"},
                       {true, "b", std::nullopt, std::nullopt, "m"},
                       {false, "c", 5, 1, "w"}});
    EXPECT_EQ(get("devices.deny"), "a *:* rwmc 5:1 w");
    EXPECT_EQ(get("devices.allow"), "c 1:3 rwmb *:* m");
    // A file that is not there fails at its first rule, naming it and the value.
    try {
        v1::devices(dir_ + "/missing", {{true, "c", 1, 3, "rwm"}});
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "write \"c 1:3 rwm\" to \"" + dir_ +
                      "/missing/devices.allow\": ENOENT (No such file or directory)");
    }
}

TEST(CgroupFile, FlatKeys) {
    EXPECT_EQ(flat_key("low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n", "oom_kill"), 2);
    EXPECT_EQ(flat_key("oom_kill_disable 0\nunder_oom 0\noom_kill 5", "oom_kill"), 5);
    EXPECT_EQ(flat_key("populated 1\nfrozen 0\n", "frozen"), 0);
    EXPECT_EQ(flat_key("a 1", "b"), -1);
    EXPECT_EQ(split_words("cpu io  memory\n"), (std::vector<std::string>{"cpu", "io", "memory"}));
}

}  // namespace
}  // namespace husk::runtime::cgroup
