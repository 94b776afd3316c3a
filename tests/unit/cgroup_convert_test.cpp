// Value conversions between OCI, cgroup v1 and cgroup v2, and the validation
// that runs before any cgroup exists.
#include <gtest/gtest.h>

#include "runtime/cgroup/convert.h"
#include "sys/error.h"

namespace husk::runtime::cgroup {
namespace {

std::string error_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

TEST(CgroupConvert, SharesToWeightIsRuncFormula) {
    EXPECT_EQ(shares_to_weight(0), 0u);
    EXPECT_EQ(shares_to_weight(2), 1u);
    EXPECT_EQ(shares_to_weight(1024), 39u);  // 1 + (1022 * 9999) / 262142
    EXPECT_EQ(shares_to_weight(262144), 10000u);
    EXPECT_EQ(shares_to_weight(512), 1 + (510u * 9999) / 262142);
}

TEST(CgroupConvert, BlkioWeightToIoWeight) {
    EXPECT_EQ(blkio_weight_to_io_weight(0), 0u);
    EXPECT_EQ(blkio_weight_to_io_weight(10), 1u);
    EXPECT_EQ(blkio_weight_to_io_weight(1000), 10000u);
    EXPECT_EQ(blkio_weight_to_io_weight(500), 1 + 490u * 9999 / 990);
}

TEST(CgroupConvert, CpuMax) {
    EXPECT_EQ(cpu_max(std::nullopt, std::nullopt), "");
    EXPECT_EQ(cpu_max(50000, std::nullopt), "50000 100000");
    EXPECT_EQ(cpu_max(50000, 200000), "50000 200000");
    EXPECT_EQ(cpu_max(-1, 200000), "max 200000");
    EXPECT_EQ(cpu_max(std::nullopt, 200000), "max 200000");
}

TEST(CgroupConvert, SwapV2IsSwapMinusLimit) {
    EXPECT_EQ(swap_v2(std::nullopt, 100), std::nullopt);
    EXPECT_EQ(swap_v2(0, 100), std::nullopt);
    EXPECT_EQ(swap_v2(-1, 100), "max");
    EXPECT_EQ(swap_v2(300, 100), "200");
    EXPECT_EQ(swap_v2(100, 100), "0");
    EXPECT_EQ(swap_v2(300, -1), "300");
    EXPECT_NE(error_of([] { swap_v2(50, 100); }).find("linux.resources.memory.swap 50"),
              std::string::npos);
    EXPECT_NE(error_of([] { swap_v2(50, std::nullopt); }).find("needs a memory limit"),
              std::string::npos);
}

TEST(CgroupConvert, LimitV2) {
    EXPECT_EQ(limit_v2(-1), "max");
    EXPECT_EQ(limit_v2(33554432), "33554432");
}

TEST(CgroupConvert, IdLists) {
    EXPECT_EQ(parse_id_list("0-3,5", "f"), (std::set<int>{0, 1, 2, 3, 5}));
    EXPECT_EQ(parse_id_list("1\n", "f"), (std::set<int>{1}));
    EXPECT_TRUE(parse_id_list("", "f").empty());
    EXPECT_NE(error_of([] {
                  parse_id_list("3-1", "linux.resources.cpu.cpus");
              }).find("linux.resources.cpu.cpus \"3-1\""),
              std::string::npos);
    EXPECT_THROW(parse_id_list("a", "f"), Error);
    EXPECT_THROW(parse_id_list("1,,2", "f"), Error);
}

TEST(CgroupConvert, HugepageNames) {
    EXPECT_EQ(hugepage_size_name(2048), "2MB");
    EXPECT_EQ(hugepage_size_name(1048576), "1GB");
    EXPECT_EQ(hugepage_size_name(64), "64KB");
}

// A host with 1 GiB and 2 MiB pages listed "1GB" first (sorted as text), so a limit meant
// for the smallest size went to hugetlb.1GB.max and read back 0.
TEST(CgroupConvert, HugepageSizesSortBySizeNotName) {
    EXPECT_EQ(hugepage_size_names({1048576, 2048, 64}),
              (std::vector<std::string>{"64KB", "2MB", "1GB"}));
    EXPECT_EQ(hugepage_size_bytes("2MB"), uint64_t{2} << 20);
    EXPECT_EQ(hugepage_size_bytes("1GB"), uint64_t{1} << 30);
    EXPECT_EQ(hugepage_size_bytes("64KB"), uint64_t{64} << 10);
    EXPECT_EQ(hugepage_size_bytes("2M"), std::nullopt);
    EXPECT_EQ(hugepage_size_bytes("MB"), std::nullopt);
}

TEST(CgroupConvert, DeviceRuleV1) {
    oci::DeviceRule all;
    all.access = "rwm";
    EXPECT_EQ(device_rule_v1(all), "a *:* rwm");
    oci::DeviceRule null{true, "c", 1, 3, "rw"};
    EXPECT_EQ(device_rule_v1(null), "c 1:3 rw");
    oci::DeviceRule any_minor{true, "b", 8, -1, ""};
    EXPECT_EQ(device_rule_v1(any_minor), "b 8:* rwm");
}

TEST(CgroupValidate, OneErrorNamingTheField) {
    oci::Resources r;
    r.devices.push_back({true, "x", 1, 3, "rwm"});
    EXPECT_NE(error_of([&] { validate(r); }).find("linux.resources.devices[0].type \"x\""),
              std::string::npos);
    r.devices[0] = {true, "c", 1, 3, "rwz"};
    EXPECT_NE(error_of([&] { validate(r); }).find("linux.resources.devices[0].access"),
              std::string::npos);

    oci::Resources cpus;
    cpus.cpu.emplace().cpus = "0,4096";
    EXPECT_NE(
        error_of([&] { validate(cpus); }).find("linux.resources.cpu.cpus \"0,4096\": cpu 4096"),
        std::string::npos);

    oci::Resources shares;
    shares.cpu.emplace().shares = 300000;
    EXPECT_NE(error_of([&] { validate(shares); }).find("linux.resources.cpu.shares"),
              std::string::npos);

    oci::Resources mem;
    mem.memory.emplace().limit = -5;
    EXPECT_NE(error_of([&] { validate(mem); }).find("linux.resources.memory.limit -5"),
              std::string::npos);

    oci::Resources huge;
    huge.hugepage_limits.push_back({"3MB", 1});
    EXPECT_NE(error_of([&] { validate(huge); }).find("linux.resources.hugepageLimits[0].pageSize"),
              std::string::npos);

    oci::Resources unified;
    unified.unified["../etc/passwd"] = "x";
    EXPECT_NE(error_of([&] { validate(unified); }).find("linux.resources.unified"),
              std::string::npos);
    unified.unified = {{"cgroup.procs", "1"}};
    EXPECT_THROW(validate(unified), Error);

    oci::Resources weight;
    weight.block_io.emplace().weight = 5;
    EXPECT_NE(error_of([&] { validate(weight); }).find("linux.resources.blockIO.weight 5"),
              std::string::npos);

    oci::Resources ok;
    ok.memory.emplace().limit = 1 << 20;
    ok.cpu.emplace().cpus = "0";
    ok.pids.emplace().limit = 20;
    EXPECT_NO_THROW(validate(ok));
}

}  // namespace
}  // namespace husk::runtime::cgroup
