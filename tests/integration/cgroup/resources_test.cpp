// Every linux.resources field on this host's cgroups: the value appears in the
// right cgroup file, or (knobs the kernel no longer has) a warning is logged.
#include <fcntl.h>
#include <sys/mman.h>

#include <fstream>
#include <sstream>

#include "helpers.h"
#include "runtime/cgroup/backends.h"
#include "runtime/cgroup/convert.h"
#include "runtime/cgroup/manager.h"
#include "sys/error.h"
#include "sys/log.h"

namespace husk::cgtest {
namespace {

using runtime::cgroup::Manager;
using runtime::cgroup::read_file;

// husk::log lines of this test binary go to one file; a capture reads what came after it.
class LogCapture {
  public:
    LogCapture() {
        static const std::string path = [] {
            std::string p = fmt::format("/tmp/cgroup-it-{}.log", ::getpid());
            log::configure(p, log::Format::text, false);
            return p;
        }();
        path_ = path;
        start_ = slurp().size();
    }
    std::string text() const { return slurp().substr(start_); }
    ~LogCapture() {
        if (::testing::Test::HasFailure()) std::cerr << "log: " << text();
    }

  private:
    std::string slurp() const {
        std::ifstream f(path_);
        std::stringstream ss;
        ss << f.rdbuf();
        return ss.str();
    }
    std::string path_;
    size_t start_ = 0;
};

std::string file_in(const Manager& m, const char* controller, const char* file) {
    std::string d = m.dir_of(controller);
    if (d.empty()) return "<no " + std::string(controller) + " cgroup>";
    return read_file(d, file);
}

struct Destroy {
    std::unique_ptr<Manager>& m;
    ~Destroy() {
        if (m) m->destroy();
    }
};

TEST(CgroupResources, Memory) {
    LogCapture log;
    oci::Resources r;
    auto& m = r.memory.emplace();
    m.limit = 64 << 20;
    m.reservation = 32 << 20;
    m.swap = 128 << 20;
    m.swappiness = 10;
    m.disable_oom_killer = true;
    m.kernel = 16 << 20;
    m.use_hierarchy = false;
    auto mgr = Manager::create(test_path("mem"), "mem", &r);
    Destroy guard{mgr};
    if (mgr->is_v2("memory")) {
        EXPECT_EQ(file_in(*mgr, "memory", "memory.max"), "67108864");
        EXPECT_EQ(file_in(*mgr, "memory", "memory.low"), "33554432");
        EXPECT_EQ(file_in(*mgr, "memory", "memory.swap.max"), "67108864");
    } else {
        EXPECT_EQ(file_in(*mgr, "memory", "memory.limit_in_bytes"), "67108864");
        EXPECT_EQ(file_in(*mgr, "memory", "memory.soft_limit_in_bytes"), "33554432");
        EXPECT_EQ(file_in(*mgr, "memory", "memory.memsw.limit_in_bytes"), "134217728");
        EXPECT_EQ(file_in(*mgr, "memory", "memory.swappiness"), "10");
        EXPECT_NE(file_in(*mgr, "memory", "memory.oom_control").find("oom_kill_disable 1"),
                  std::string::npos);
    }
    EXPECT_NE(log.text().find("linux.resources.memory.kernel is ignored"), std::string::npos)
        << log.text();
    EXPECT_NE(log.text().find("linux.resources.memory.useHierarchy is ignored"), std::string::npos)
        << log.text();
}

TEST(CgroupResources, Cpu) {
    LogCapture log;
    oci::Resources r;
    auto& c = r.cpu.emplace();
    c.shares = 512;
    c.quota = 50000;
    c.period = 200000;
    c.burst = 1000;
    c.realtime_period = 1000000;
    c.realtime_runtime = 5000;
    auto mgr = Manager::create(test_path("cpu"), "cpu", &r);
    Destroy guard{mgr};
    if (mgr->is_v2("cpu")) {
        EXPECT_EQ(file_in(*mgr, "cpu", "cpu.weight"), "20");
        EXPECT_EQ(file_in(*mgr, "cpu", "cpu.max"), "50000 200000");
        EXPECT_NE(log.text().find("realtimeRuntime/realtimePeriod is ignored"), std::string::npos);
        return;
    }
    EXPECT_EQ(file_in(*mgr, "cpu", "cpu.shares"), "512");
    EXPECT_EQ(file_in(*mgr, "cpu", "cpu.cfs_quota_us"), "50000");
    EXPECT_EQ(file_in(*mgr, "cpu", "cpu.cfs_period_us"), "200000");
    if (runtime::cgroup::file_exists(mgr->dir_of("cpu"), "cpu.cfs_burst_us")) {
        EXPECT_EQ(file_in(*mgr, "cpu", "cpu.cfs_burst_us"), "1000");
    }
    if (runtime::cgroup::file_exists(mgr->dir_of("cpu"), "cpu.rt_runtime_us")) {
        EXPECT_EQ(file_in(*mgr, "cpu", "cpu.rt_period_us"), "1000000");
        EXPECT_EQ(file_in(*mgr, "cpu", "cpu.rt_runtime_us"), "5000");
    } else {
        EXPECT_NE(log.text().find("CONFIG_RT_GROUP_SCHED"), std::string::npos) << log.text();
    }
}

TEST(CgroupResources, CpuIdle) {
    oci::Resources r;
    r.cpu.emplace().idle = 1;
    auto mgr = Manager::create(test_path("idle"), "idle", &r);
    Destroy guard{mgr};
    EXPECT_EQ(file_in(*mgr, "cpu", "cpu.idle"), "1");
}

TEST(CgroupResources, Cpuset) {
    // The first online cpu and memory node: neither need be 0 on every machine.
    auto first_online = [](const char* file) {
        std::string online;
        runtime::cgroup::try_read_file(file, online);
        auto ids = runtime::cgroup::parse_id_list(online, file);
        return ids.empty() ? std::string("0") : std::to_string(*ids.begin());
    };
    const std::string cpu = first_online("/sys/devices/system/cpu/online");
    const std::string node = first_online("/sys/devices/system/node/online");
    oci::Resources r;
    auto& c = r.cpu.emplace();
    c.cpus = cpu;
    c.mems = node;
    auto mgr = Manager::create(test_path("cpuset"), "cpuset", &r);
    Destroy guard{mgr};
    EXPECT_EQ(file_in(*mgr, "cpuset", "cpuset.cpus"), cpu);
    EXPECT_EQ(file_in(*mgr, "cpuset", "cpuset.mems"), node);
}

TEST(CgroupResources, Pids) {
    oci::Resources r;
    r.pids.emplace().limit = 20;
    auto mgr = Manager::create(test_path("pids"), "pids", &r);
    Destroy guard{mgr};
    EXPECT_EQ(file_in(*mgr, "pids", "pids.max"), "20");
    r.pids->limit = 0;
    mgr->update(r);
    EXPECT_EQ(file_in(*mgr, "pids", "pids.max"), "max");
}

// major:minor of a block device of this machine ("254:0"), or "".
std::string some_block_device() {
    for (const char* dev : {"vda", "sda", "nvme0n1", "xvda", "ram0", "loop0"}) {
        std::string s;
        if (runtime::cgroup::try_read_file(fmt::format("/sys/block/{}/dev", dev), s)) return s;
    }
    return {};
}

TEST(CgroupResources, BlockIo) {
    const std::string dev = some_block_device();
    if (dev.empty()) GTEST_SKIP() << "no block device in /sys/block";
    unsigned major = 0, minor = 0;
    std::sscanf(dev.c_str(), "%u:%u", &major, &minor);
    LogCapture log;
    oci::Resources r;
    auto& b = r.block_io.emplace();
    b.weight = 500;
    b.leaf_weight = 300;
    b.throttle_read_bps_device.push_back({major, minor, 1048576});
    b.throttle_write_bps_device.push_back({major, minor, 2097152});
    b.throttle_read_iops_device.push_back({major, minor, 100});
    b.throttle_write_iops_device.push_back({major, minor, 200});
    auto mgr = Manager::create(test_path("blkio"), "blkio", &r);
    Destroy guard{mgr};
    if (mgr->is_v2("io")) {
        EXPECT_EQ(file_in(*mgr, "io", "io.max"),
                  fmt::format("{} rbps=1048576 wbps=2097152 riops=100 wiops=200", dev));
        return;
    }
    EXPECT_EQ(file_in(*mgr, "blkio", "blkio.throttle.read_bps_device"), dev + " 1048576");
    EXPECT_EQ(file_in(*mgr, "blkio", "blkio.throttle.write_bps_device"), dev + " 2097152");
    EXPECT_EQ(file_in(*mgr, "blkio", "blkio.throttle.read_iops_device"), dev + " 100");
    EXPECT_EQ(file_in(*mgr, "blkio", "blkio.throttle.write_iops_device"), dev + " 200");
    const std::string d = mgr->dir_of("blkio");
    if (runtime::cgroup::file_exists(d, "blkio.bfq.weight")) {
        EXPECT_EQ(file_in(*mgr, "blkio", "blkio.bfq.weight"), "500");
    } else if (!runtime::cgroup::file_exists(d, "blkio.weight")) {
        EXPECT_NE(log.text().find("linux.resources.blockIO.weight is ignored"), std::string::npos)
            << log.text();
    }
    EXPECT_NE(log.text().find("linux.resources.blockIO.leafWeight is ignored"), std::string::npos)
        << log.text();
}

TEST(CgroupResources, DevicesV1) {
    auto layout = runtime::cgroup::detect_layout();
    if (!layout.v1_mount("devices")) GTEST_SKIP() << "devices is not a v1 controller here";
    oci::Resources r;
    r.devices.push_back({false, "", std::nullopt, std::nullopt, "rwm"});
    r.devices.push_back({true, "c", 1, 3, "rwm"});
    r.devices.push_back({true, "c", 136, -1, "rw"});
    auto mgr = Manager::create(test_path("dev"), "dev", &r);
    Destroy guard{mgr};
    EXPECT_EQ(file_in(*mgr, "devices", "devices.list"), "c 1:3 rwm\nc 136:* rw");
}

TEST(CgroupResources, NetworkAndRdmaWarnWhereNotMounted) {
    auto layout = runtime::cgroup::detect_layout();
    LogCapture log;
    oci::Resources r;
    auto& n = r.network.emplace();
    n.class_id = 0x100001;
    n.priorities.push_back({"lo", 5});
    const bool rdma = layout.v1_mount("rdma") || layout.v2_has("rdma");
    if (!rdma) r.rdma["mlx5_0"] = {3, 1000};
    auto mgr = Manager::create(test_path("net"), "net", &r);
    Destroy guard{mgr};
    if (layout.v1_mount("net_cls")) {
        EXPECT_EQ(file_in(*mgr, "net_cls", "net_cls.classid"), "1048577");
    } else {
        EXPECT_NE(log.text().find("linux.resources.network.classID is ignored"), std::string::npos)
            << log.text();
    }
    if (layout.v1_mount("net_prio")) {
        EXPECT_NE(file_in(*mgr, "net_prio", "net_prio.ifpriomap").find("lo 5"), std::string::npos);
    } else {
        EXPECT_NE(log.text().find("linux.resources.network.priorities is ignored"),
                  std::string::npos);
    }
    if (!rdma) {
        EXPECT_NE(log.text().find("linux.resources.rdma is ignored"), std::string::npos);
    } else {
        // The controller is there but the device is not: the kernel's error, naming file and value.
        oci::Resources bad;
        bad.rdma["mlx5_0"] = {3, 1000};
        try {
            mgr->update(bad);
            ADD_FAILURE() << "expected an error";
        } catch (const Error& e) {
            EXPECT_NE(
                std::string(e.what()).find("write \"mlx5_0 hca_handle=3 hca_object=1000\" to"),
                std::string::npos)
                << e.what();
        }
    }
}

TEST(CgroupResources, UnifiedWritesCgroup2Files) {
    if (!runtime::cgroup::detect_layout().v2) GTEST_SKIP() << "cgroup2 is not mounted";
    oci::Resources r;
    r.unified["cgroup.max.depth"] = "3";
    auto mgr = Manager::create(test_path("unified"), "unified", &r);
    Destroy guard{mgr};
    EXPECT_EQ(read_file(mgr->dir_of(""), "cgroup.max.depth"), "3");

    oci::Resources bad;
    bad.unified["nosuch.file"] = "1";
    try {
        mgr->update(bad);
        ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("linux.resources.unified \"nosuch.file\""),
                  std::string::npos)
            << e.what();
    }
}

TEST(CgroupResources, HugetlbWhereverItLives) {
    auto sizes = runtime::cgroup::hugepage_sizes();
    if (sizes.empty()) GTEST_SKIP() << "no huge page sizes in /sys/kernel/mm/hugepages";
    auto layout = runtime::cgroup::detect_layout();
    const bool on_v2 = !layout.v1_mount("hugetlb") && layout.v2_has("hugetlb");
    if (!layout.v1_mount("hugetlb") && !on_v2)
        GTEST_SKIP() << "hugetlb is neither a mounted v1 hierarchy nor in cgroup2 here (see "
                        "/proc/cgroups: it may be mounted elsewhere)";
    // Enabling hugetlb in cgroup2 is visible host-wide: undo it if we are the ones doing it.
    std::string root_enabled;
    if (on_v2)
        runtime::cgroup::try_read_file(layout.v2->mountpoint + "/cgroup.subtree_control",
                                       root_enabled);
    const bool was_enabled = root_enabled.find("hugetlb") != std::string::npos;
    // A limit for every size the host has, each a multiple of its page size (the kernel
    // rounds a limit down to whole pages: 8 MiB in hugetlb.1GB.max reads back 0).
    oci::Resources r;
    for (const auto& size : sizes) {
        auto bytes = runtime::cgroup::hugepage_size_bytes(size);
        ASSERT_TRUE(bytes.has_value()) << size;
        r.hugepage_limits.push_back({size, *bytes * 4});
    }
    {
        auto mgr = Manager::create(test_path("huge"), "huge", &r);
        Destroy guard{mgr};
        for (const auto& limit : r.hugepage_limits) {
            const std::string file =
                mgr->is_v2("hugetlb") ? fmt::format("hugetlb.{}.max", limit.page_size)
                                      : fmt::format("hugetlb.{}.limit_in_bytes", limit.page_size);
            EXPECT_EQ(file_in(*mgr, "hugetlb", file.c_str()), std::to_string(limit.limit)) << file;
        }
    }
    if (on_v2 && !was_enabled) {
        for (const auto& d : {layout.v2->mountpoint + test_root(), layout.v2->mountpoint}) {
            try {
                runtime::cgroup::write_file(d, "cgroup.subtree_control", "-hugetlb");
            } catch (const std::exception&) {
            }
        }
    }
}

TEST(CgroupResources, BadValueLeavesNothing) {
    oci::Resources bad_cpus;
    bad_cpus.cpu.emplace().cpus = "0-4095";
    EXPECT_THROW(Manager::create(test_path("bad1"), "bad1", &bad_cpus), Error);
    for (const auto& d : all_dirs(test_path("bad1"))) EXPECT_FALSE(exists(d)) << d;

    // Rejected by the kernel after the cgroups exist: rolled back, the message names file and
    // value.
    oci::Resources bad_quota;
    bad_quota.cpu.emplace().quota = 500;  // below the kernel's 1 ms minimum
    try {
        Manager::create(test_path("bad2"), "bad2", &bad_quota);
        ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
        const std::string msg = e.what();
        // v1: write "500" to ".../cpu.cfs_quota_us"; v2: write "500 100000" to ".../cpu.max"
        EXPECT_TRUE(msg.find("write \"500") != std::string::npos &&
                    msg.find("EINVAL") != std::string::npos)
            << msg;
    }
    for (const auto& d : all_dirs(test_path("bad2"))) EXPECT_FALSE(exists(d)) << d;
}

TEST(CgroupResources, UpdateAndCheckBeforeUpdate) {
    oci::Resources r;
    r.memory.emplace().limit = 256 << 20;
    auto mgr = Manager::create(test_path("upd"), "upd", &r);
    Destroy guard{mgr};
    // A child that uses ~8 MiB.
    Child child([] {
        size_t n = 8 << 20;
        char* p = static_cast<char*>(
            ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        for (size_t i = 0; i < n; i += 4096) p[i] = 1;
        for (;;) ::pause();
    });
    mgr->add_pid(child.pid());
    child.release();
    ASSERT_TRUE(eventually([&] { return mgr->stats().memory.usage >= (8u << 20); }));
    oci::Resources lower;
    lower.memory.emplace().limit = 1 << 20;
    lower.memory->check_before_update = true;
    EXPECT_THROW(mgr->update(lower), Error);
    oci::Resources higher;
    higher.memory.emplace().limit = 128 << 20;
    mgr->update(higher);
    EXPECT_EQ(mgr->stats().memory.limit, 128u << 20);
    auto s = mgr->stats();
    EXPECT_GE(s.pids_current, 1u);
    EXPECT_NE(s.to_json().find("\"usage\""), std::string::npos);
    mgr->kill_all(SIGKILL);
    child.wait();
}

}  // namespace
}  // namespace husk::cgtest
