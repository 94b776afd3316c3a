// The linux.* fields of runtime-spec 1.2/1.3 (time namespace offsets, network devices)
// as the container sees them, the fields this host cannot honour (LSM labels, Intel
// RDT) refused with one line naming them, and `features` describing what works.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <functional>

#include "../harness.h"

using namespace husk::test;
using nlohmann::json;

namespace {

const char* const kIp = "/usr/sbin/ip";  // the harness runs argv[0] as given

double host_clock(clockid_t id) {
    timespec ts{};
    ::clock_gettime(id, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::string first_error_line(const Result& r) {
    return r.err.substr(0, r.err.find('\n'));
}

}  // namespace

TEST(LinuxFields, TimeOffsetsAreSeenInUptimeAndClocks) {
    if (::access("/proc/self/timens_offsets", F_OK) != 0)
        GTEST_SKIP() << "the kernel has no time namespaces (CONFIG_TIME_NS)";
    Bundle b("rt2-timens");
    b.config["linux"]["namespaces"].push_back({{"type", "time"}});
    b.config["linux"]["timeOffsets"] = {{"boottime", {{"secs", 1000000}, {"nanosecs", 0}}},
                                        {"monotonic", {{"secs", 500000}, {"nanosecs", 0}}}};
    b.save();
    double boot = host_clock(CLOCK_BOOTTIME), mono = host_clock(CLOCK_MONOTONIC);
    json r = run_probe_json(b);
    ASSERT_TRUE(r["boottime"].is_number()) << r.dump();
    EXPECT_GE(r["boottime"].get<double>() - boot, 1000000.0);
    EXPECT_LT(r["boottime"].get<double>() - boot, 1000000.0 + 120);
    EXPECT_GE(r["monotonic"].get<double>() - mono, 500000.0);
    EXPECT_LT(r["monotonic"].get<double>() - mono, 500000.0 + 120);
    EXPECT_GE(r["uptime"].get<double>(), 1000000.0) << "/proc/uptime follows boottime";
    // The runtime itself kept the host's clocks.
    EXPECT_LT(host_clock(CLOCK_BOOTTIME) - boot, 120);
}

TEST(LinuxFields, TimeOffsetsWithoutTimeNamespaceNameTheField) {
    Bundle b("rt2-timebad");
    b.config["linux"]["timeOffsets"] = {{"boottime", {{"secs", 5}}}};
    b.save();
    auto r = b.runtime({"run", "--bundle", b.dir(), b.id()});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("linux.timeOffsets"), std::string::npos) << r.err;
}

TEST(LinuxFields, NetDeviceIsMovedIntoTheContainerAndRenamed) {
    // A veth pair (this kernel has no dummy driver): one end goes into the container.
    std::string host = "rt2v" + std::to_string(::getpid() % 100000);
    std::string peer = host + "p";
    auto add = run({kIp, "link", "add", host, "type", "veth", "peer", "name", peer});
    if (add.status != 0) GTEST_SKIP() << "cannot make a veth pair: " << add.err;
    run({kIp, "addr", "add", "10.251.7.1/24", "dev", host});
    Bundle b("rt2-netdev");
    b.config["linux"]["netDevices"] = {{host, {{"name", "ctr0"}}}};
    b.save();
    // Its addresses, then the probe's report (the last line).
    b.args({"/bin/sh", "-c", "/bin/busybox ip -4 addr show ctr0; exec /bin/husk-probe"});
    auto addr = b.runtime({"run", "--bundle", b.dir(), b.id()});
    // The pair dies with the container's namespace, but the kernel tears namespaces down
    // asynchronously: delete what may still be there rather than wait for it.
    run({kIp, "link", "del", peer});
    run({kIp, "link", "del", host});
    ASSERT_EQ(addr.status, 0) << addr.err;
    json r = last_json_line(addr.out);
    ASSERT_TRUE(r["netdevs"].is_array()) << r.dump();
    auto has = [&](const std::string& n) {
        return std::find(r["netdevs"].begin(), r["netdevs"].end(), n) != r["netdevs"].end();
    };
    EXPECT_TRUE(has("ctr0")) << r["netdevs"];
    EXPECT_FALSE(has(host)) << r["netdevs"];
    EXPECT_NE(addr.out.find("inet 10.251.7.1/24"), std::string::npos)
        << "the address moves with it: " << addr.out << addr.err;
}

TEST(LinuxFields, NetDeviceErrorsNameTheDevice) {
    Bundle b("rt2-netbad");
    b.config["linux"]["netDevices"] = {{"rt2-none0", json::object()}};
    b.save();
    auto r = b.runtime({"run", "--bundle", b.dir(), b.id()});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("linux.netDevices[\"rt2-none0\"]"), std::string::npos) << r.err;
    auto ls = run({"/bin/sh", "-c", "ls -A " + b.state_root() + " 2>/dev/null"});
    EXPECT_TRUE(ls.out.empty()) << "state left behind: " << ls.out;
}

TEST(LinuxFields, LsmLabelsAndIntelRdtAreRefusedByNameAndFineWhenEmpty) {
    struct Case {
        const char* field;
        std::function<void(json&)> set;
    };
    const Case cases[] = {
        {"process.apparmorProfile", [](json& c) { c["process"]["apparmorProfile"] = "prof"; }},
        {"process.selinuxLabel",
         [](json& c) { c["process"]["selinuxLabel"] = "system_u:system_r:container_t:s0"; }},
        {"linux.mountLabel",
         [](json& c) { c["linux"]["mountLabel"] = "system_u:object_r:container_file_t:s0"; }},
        {"linux.intelRdt",
         [](json& c) {
             c["linux"]["intelRdt"] = {{"closID", "rt2"}};
         }},
    };
    for (const auto& c : cases) {
        Bundle b("rt2-lsm");
        c.set(b.config);
        b.save();
        auto r = b.runtime({"run", "--bundle", b.dir(), b.id()});
        EXPECT_EQ(r.status, 1) << c.field;
        EXPECT_NE(first_error_line(r).find(c.field), std::string::npos) << r.err;
    }
    Bundle b("rt2-lsm-empty");
    b.config["process"]["apparmorProfile"] = "";
    b.config["process"]["selinuxLabel"] = "";
    b.config["linux"]["mountLabel"] = "";
    b.save();
    EXPECT_EQ(run_probe_json(b)["pid"], 1);
}

TEST(LinuxFields, FeaturesListHooksAndSeccomp) {
    auto r = run({runtime_bin(), "features"});
    ASSERT_EQ(r.status, 0) << r.err;
    json f = json::parse(r.out);
    EXPECT_EQ(f["hooks"], json({"prestart", "createRuntime", "createContainer", "startContainer",
                                "poststart", "poststop"}));
    const json& s = f["linux"]["seccomp"];
    EXPECT_EQ(s["enabled"], true);
    for (const char* key : {"actions", "operators", "archs", "knownFlags", "supportedFlags"})
        EXPECT_TRUE(s[key].is_array() && !s[key].empty()) << key;
    auto has = [](const json& a, const char* v) {
        return std::find(a.begin(), a.end(), v) != a.end();
    };
    EXPECT_TRUE(has(s["actions"], "SCMP_ACT_ERRNO"));
    EXPECT_TRUE(has(s["archs"], "SCMP_ARCH_X86_64"));
    EXPECT_TRUE(has(s["operators"], "SCMP_CMP_MASKED_EQ"));
    for (const auto& flag : s["supportedFlags"])
        EXPECT_TRUE(has(s["knownFlags"], flag.get<std::string>().c_str()));
    EXPECT_TRUE(has(f["linux"]["namespaces"], "time"));
}

TEST(LinuxFields, TimeNamespaceIsSharedByExecAndByPath) {
    if (::access("/proc/self/timens_offsets", F_OK) != 0)
        GTEST_SKIP() << "the kernel has no time namespaces (CONFIG_TIME_NS)";
    Bundle a("rt2-timens-a");
    a.config["linux"]["namespaces"].push_back({{"type", "time"}});
    a.config["linux"]["timeOffsets"] = {{"boottime", {{"secs", 2000000}}}};
    a.args({"/bin/sleep", "100"});
    std::string id = a.id();
    ASSERT_EQ(a.runtime({"run", "--detach", "--bundle", a.dir(), id}).status, 0);
    double boot = host_clock(CLOCK_BOOTTIME);
    auto ex = a.runtime({"exec", id, "/bin/husk-probe"});
    int pid = json::parse(a.runtime({"state", id}).out)["pid"];

    Bundle b("rt2-timens-b");
    b.config["linux"]["namespaces"].push_back(
        {{"type", "time"}, {"path", "/proc/" + std::to_string(pid) + "/ns/time"}});
    b.save();
    json joined = run_probe_json(b);
    a.runtime({"delete", "--force", id});
    ASSERT_EQ(ex.status, 0) << ex.err;
    EXPECT_GE(last_json_line(ex.out)["boottime"].get<double>() - boot, 2000000.0) << "exec";
    ASSERT_TRUE(joined["boottime"].is_number()) << joined.dump();
    EXPECT_GE(joined["boottime"].get<double>() - boot, 2000000.0) << "joined by path";
}
