// What the container process sees for each config.json feature, reported by
// husk-probe from inside the container.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "../harness.h"

using namespace husk::test;
using nlohmann::json;

namespace {

// Run the probe (with extra args) in a container of `b` and return its JSON report.
json probe(Bundle& b, std::vector<std::string> args = {}) {
    std::vector<std::string> a{"/bin/husk-probe"};
    a.insert(a.end(), args.begin(), args.end());
    b.args(a);
    auto r = b.runtime({"run", "--bundle", b.dir(), b.id()});
    // The probe's own modes (mkdir, write) exit 1 when the operation fails.
    EXPECT_TRUE(r.status == 0 || (r.status == 1 && !args.empty())) << r.status << ": " << r.err;
    if (r.out.empty()) return json::object();
    return last_json_line(r.out);
}

const json* find_mount(const json& report, const std::string& target) {
    const json* found = nullptr;
    for (const auto& m : report["mounts"])
        if (m["target"] == target) found = &m;  // the last one is the visible one
    return found;
}

bool has_option(const json& m, const std::string& opt) {
    std::string o = "," + m["options"].get<std::string>() + ",";
    return o.find("," + opt + ",") != std::string::npos;
}

std::string self_ns(const char* name) {
    char buf[64] = {};
    ssize_t n = ::readlink((std::string("/proc/self/ns/") + name).c_str(), buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

}  // namespace

TEST(Config, Pid1HostnameAndOwnNamespaces) {
    Bundle b("ns");
    b.config["hostname"] = "box1";
    b.config["domainname"] = "example.org";
    b.save();
    auto r = probe(b);
    EXPECT_EQ(r["pid"], 1);
    EXPECT_EQ(r["hostname"], "box1");
    EXPECT_EQ(r["domainname"], "example.org");
    for (const char* ns : {"pid", "net", "ipc", "uts", "mnt", "cgroup"})
        EXPECT_NE(r["namespaces"][ns], self_ns(ns)) << ns << " namespace is the host's";
    EXPECT_EQ(r["namespaces"]["user"], self_ns("user"));
    char host[256] = {};
    ::gethostname(host, sizeof host);
    EXPECT_NE(std::string(host), "box1");
}

TEST(Config, OwnProcShowsOnlyContainerProcesses) {
    Bundle b("proc");
    b.args({"/bin/sh", "-c", "ls /proc | grep -E '^[0-9]+$' | wc -l"});
    auto r = b.runtime({"run", "--bundle", b.dir(), b.id()});
    ASSERT_EQ(r.status, 0) << r.err;
    // sh, ls, grep, wc: a handful, never the host's hundreds.
    EXPECT_LE(std::stoi(r.out), 5);
}

TEST(Config, ProcessUserEnvCwdUmask) {
    Bundle b("proc-user");
    b.config["process"]["user"] = {
        {"uid", 1000}, {"gid", 1000}, {"additionalGids", {5, 100}}, {"umask", 63}};
    b.config["process"]["env"] = {"PATH=/bin", "FOO=bar baz"};
    b.config["process"]["cwd"] = "/tmp";
    b.save();
    auto r = probe(b);
    EXPECT_EQ(r["uid"], 1000);
    EXPECT_EQ(r["euid"], 1000);
    EXPECT_EQ(r["gid"], 1000);
    EXPECT_EQ(r["groups"], json({5, 100}));
    EXPECT_EQ(r["cwd"], "/tmp");
    EXPECT_EQ(r["umask"], 63);
    EXPECT_EQ(r["env"], json({"PATH=/bin", "FOO=bar baz"}));
}

TEST(Config, CwdIsCreatedWhenMissing) {
    Bundle b("cwd");
    b.config["process"]["cwd"] = "/work/dir";
    b.save();
    auto r = probe(b);
    EXPECT_EQ(r["cwd"], "/work/dir");
}

TEST(Config, Rlimits) {
    Bundle b("rlimit");
    b.config["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 512}, {"hard", 777}},
                                      {{"type", "RLIMIT_CORE"}, {"soft", 0}, {"hard", 0}}};
    b.save();
    auto r = probe(b);
    EXPECT_EQ(r["rlimits"]["RLIMIT_NOFILE"]["soft"], 512);
    EXPECT_EQ(r["rlimits"]["RLIMIT_NOFILE"]["hard"], 777);
    EXPECT_EQ(r["rlimits"]["RLIMIT_CORE"]["hard"], 0);
}

TEST(Config, RlimitAboveHardLimitFailsWithOneLine) {
    Bundle b("rlimit-bad");
    b.config["process"]["rlimits"] = {
        {{"type", "RLIMIT_NOFILE"}, {"soft", 1048576}, {"hard", 1048576}}};
    b.save();
    std::string id = b.id();
    auto r = b.runtime({"create", "--bundle", b.dir(), id});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("setrlimit"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("EPERM"), std::string::npos) << r.err;
    EXPECT_EQ(b.runtime({"state", id}).status, 1);
    EXPECT_TRUE(cgroups_named(id).empty());
    EXPECT_TRUE(mounts_under(b.rootfs()).empty());
}

TEST(Config, NoNewPrivilegesBothWays) {
    Bundle b("nnp");
    b.config["process"]["noNewPrivileges"] = true;
    b.save();
    EXPECT_EQ(probe(b)["no_new_privs"], 1);
    b.config["process"]["noNewPrivileges"] = false;
    b.save();
    EXPECT_EQ(probe(b)["no_new_privs"], 0);
}

TEST(Config, CapabilitiesOfANonRootUserWithAmbient) {
    Bundle b("caps-user");
    b.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
    b.config["process"]["capabilities"] = {{"bounding", {"CAP_NET_RAW", "CAP_KILL"}},
                                           {"permitted", {"CAP_NET_RAW", "CAP_KILL"}},
                                           {"effective", {"CAP_NET_RAW"}},
                                           {"inheritable", {"CAP_NET_RAW"}},
                                           {"ambient", {"CAP_NET_RAW"}}};
    b.save();
    auto c = probe(b)["capabilities"];
    EXPECT_EQ(c["CapBnd"], "0000000000002020");  // KILL(5) NET_RAW(13)
    EXPECT_EQ(c["CapInh"], "0000000000002000");
    EXPECT_EQ(c["CapAmb"], "0000000000002000");
    // After execve a non-root process keeps only what ambient gives it.
    EXPECT_EQ(c["CapPrm"], "0000000000002000");
    EXPECT_EQ(c["CapEff"], "0000000000002000");
}

TEST(Config, CapabilitiesExactlyAsAsked) {
    Bundle b("caps");
    b.config["process"]["capabilities"] = {{"bounding", {"CAP_CHOWN", "CAP_KILL", "CAP_SYS_ADMIN"}},
                                           {"permitted", {"CAP_CHOWN", "CAP_KILL"}},
                                           {"effective", {"CAP_KILL"}},
                                           {"inheritable", json::array()},
                                           {"ambient", json::array()}};
    b.save();
    auto c = probe(b)["capabilities"];
    EXPECT_EQ(c["CapBnd"], "0000000000200021");  // CHOWN(0) KILL(5) SYS_ADMIN(21)
    EXPECT_EQ(c["CapPrm"], "0000000000000021");
    // execve as uid 0 makes the effective set equal the permitted one (capabilities(7)).
    EXPECT_EQ(c["CapEff"], "0000000000000021");
    EXPECT_EQ(c["CapInh"], "0000000000000000");
    EXPECT_EQ(c["CapAmb"], "0000000000000000");
}

TEST(Config, MountsWithTheirOptions) {
    Bundle b("mounts");
    std::string src = b.dir() + "/shared";
    ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
    std::ofstream(src + "/file") << "from the host\n";
    auto& m = b.config["mounts"];
    m.push_back({{"destination", "/data"},
                 {"type", "bind"},
                 {"source", src},
                 {"options", {"rbind", "ro"}}});
    m.push_back({{"destination", "/scratch"},
                 {"type", "tmpfs"},
                 {"source", "tmpfs"},
                 {"options", {"nosuid", "noexec", "size=1m", "mode=700"}}});
    m.push_back({{"destination", "/etc/hostfile"},
                 {"type", "bind"},
                 {"source", src + "/file"},
                 {"options", {"bind", "rw"}}});
    b.save();
    auto r = probe(b);
    const json* data = find_mount(r, "/data");
    ASSERT_NE(data, nullptr);
    EXPECT_TRUE(has_option(*data, "ro"));
    const json* scratch = find_mount(r, "/scratch");
    ASSERT_NE(scratch, nullptr);
    EXPECT_EQ((*scratch)["fstype"], "tmpfs");
    EXPECT_TRUE(has_option(*scratch, "nosuid"));
    EXPECT_TRUE(has_option(*scratch, "noexec"));
    EXPECT_NE((*scratch)["super_options"].get<std::string>().find("size=1024k"), std::string::npos);
    EXPECT_NE((*scratch)["super_options"].get<std::string>().find("mode=700"), std::string::npos);
    ASSERT_NE(find_mount(r, "/etc/hostfile"), nullptr);
    b.args({"/bin/cat", "/etc/hostfile"});
    auto cat = b.runtime({"run", "--bundle", b.dir(), b.id()});
    EXPECT_EQ(cat.out, "from the host\n");
    // The target was created inside the rootfs, not on the host.
    struct stat st {};
    EXPECT_EQ(::stat((b.rootfs() + "/data").c_str(), &st), 0);
    EXPECT_TRUE(mounts_under(b.rootfs()).empty());
}

TEST(Config, RecursiveReadOnlyBind) {
    Bundle b("rro");
    std::string src = b.dir() + "/tree";
    ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((src + "/sub").c_str(), 0755), 0);
    // A submount inside the source: "rro" must make it read-only too, "ro" would not.
    ASSERT_EQ(std::system(("mount -t tmpfs tmpfs '" + src + "/sub'").c_str()), 0);
    b.config["mounts"].push_back(
        {{"destination", "/t"}, {"type", "bind"}, {"source", src}, {"options", {"rbind", "rro"}}});
    b.save();
    auto r = probe(b, {"mkdir", "/t/sub/x"});
    ::umount2((src + "/sub").c_str(), MNT_DETACH);
    EXPECT_EQ(r["ok"], false);
    EXPECT_EQ(r["errno"], EROFS);
}

TEST(Config, MaskedAndReadonlyPaths) {
    Bundle b("mask");
    auto r = probe(b);
    const json* keys = find_mount(r, "/proc/keys");
    ASSERT_NE(keys, nullptr) << "/proc/keys is not masked";
    const json* acpi = find_mount(r, "/proc/acpi");
    ASSERT_NE(acpi, nullptr);
    EXPECT_EQ((*acpi)["fstype"], "tmpfs");
    EXPECT_TRUE(has_option(*acpi, "ro"));
    const json* sys = find_mount(r, "/proc/sys");
    ASSERT_NE(sys, nullptr);
    EXPECT_TRUE(has_option(*sys, "ro"));
    auto w = probe(b, {"write", "/proc/sys/kernel/hostname", "x"});
    EXPECT_EQ(w["ok"], false);
    EXPECT_EQ(w["errno"], EROFS);
}

TEST(Config, ReadonlyRoot) {
    Bundle b("roroot");
    b.config["root"]["readonly"] = true;
    b.save();
    auto r = probe(b, {"mkdir", "/newdir"});
    EXPECT_EQ(r["ok"], false);
    EXPECT_EQ(r["errno"], EROFS);
}

TEST(Config, NamespacedSysctlIsSetAndOthersAreRefused) {
    Bundle b("sysctl");
    // With the default readonlyPaths (/proc/sys read-only): sysctls are set before that.
    b.config["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}, {"kernel.shmmni", "1234"}};
    b.save();
    b.args({"/bin/sh", "-c", "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni"});
    auto r = b.runtime({"run", "--bundle", b.dir(), b.id()});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "1\n1234\n");
    b.config["linux"]["sysctl"] = {{"vm.swappiness", "10"}};
    b.save();
    std::string id = b.id();
    auto bad = b.runtime({"create", "--bundle", b.dir(), id});
    EXPECT_EQ(bad.status, 1);
    EXPECT_NE(bad.err.find("vm.swappiness"), std::string::npos) << bad.err;
    EXPECT_EQ(b.runtime({"state", id}).status, 1);
}

TEST(Config, OomScoreAdj) {
    Bundle b("oom");
    b.config["process"]["oomScoreAdj"] = 500;
    b.save();
    EXPECT_EQ(probe(b)["oom_score_adj"], 500);
}

TEST(Config, LinuxDevices) {
    Bundle b("devices");
    b.config["linux"]["devices"] = {{{"type", "c"},
                                     {"path", "/dev/fuse-like"},
                                     {"major", 10},
                                     {"minor", 229},
                                     {"fileMode", 0640},
                                     {"uid", 1},
                                     {"gid", 2}}};
    b.save();
    b.args({"/bin/stat", "-c", "%F %t %T %a %u %g", "/dev/fuse-like", "/dev/null", "/dev/zero"});
    auto r = b.runtime({"run", "--bundle", b.dir(), b.id()});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out,
              "character special file a e5 640 1 2\n"
              "character special file 1 3 666 0 0\n"
              "character special file 1 5 666 0 0\n");
}

// A device at a path where the image has a file replaces the file (mknod first, then the
// unlink and a second mknod only when something is there); a directory there stays and
// the run fails naming the device and EEXIST.
TEST(Config, LinuxDeviceReplacesAFileOfTheImageNotADirectory) {
    Bundle b("devrepl");
    std::ofstream(b.rootfs() + "/etc/devnode") << "a file of the image\n";
    b.config["linux"]["devices"] = {
        {{"type", "c"}, {"path", "/etc/devnode"}, {"major", 1}, {"minor", 3}, {"fileMode", 0600}}};
    b.save();
    b.args({"/bin/stat", "-c", "%F %t %T %a", "/etc/devnode"});
    auto r = b.runtime({"run", "--bundle", b.dir(), b.id()});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "character special file 1 3 600\n");

    ASSERT_EQ(::unlink((b.rootfs() + "/etc/devnode").c_str()), 0);
    ASSERT_EQ(::mkdir((b.rootfs() + "/etc/devnode").c_str(), 0755), 0);
    r = b.runtime({"run", "--bundle", b.dir(), b.id("dir")});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find("mknod"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("/etc/devnode"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("EEXIST"), std::string::npos) << r.err;
    EXPECT_EQ(b.runtime({"state", b.id("dir")}).status, 1);
}

TEST(Config, OnlyStdioReachesTheContainer) {
    Bundle b("fds");
    EXPECT_EQ(probe(b)["fds"], json({0, 1, 2}));
}

// Signals the runtime's caller ignores (a shell's `trap ''`, an engine ignoring SIGPIPE)
// stay ignored through execve unless the init resets them: the container's process starts
// with every signal at its default. The init resets what the runtime had not at SIG_DFL
// when it cloned it (read once from /proc/self/status), not all 64 one by one.
TEST(Config, SignalsIgnoredByTheCallerAreDefaultInTheContainer) {
    Bundle b("sigign");
    b.args({"/bin/busybox", "grep", "^SigIgn:", "/proc/self/status"});
    // The same spelling on the host shows the two ignored (SIGUSR1 bit 9, SIGPIPE bit 12).
    auto host = run({"/bin/sh", "-c", "trap '' USR1 PIPE; exec grep '^SigIgn:' /proc/self/status"});
    ASSERT_EQ(host.status, 0) << host.err;
    ASSERT_EQ(host.out.rfind("SigIgn:", 0), 0U) << host.out;
    EXPECT_EQ(std::stoull(host.out.substr(7), nullptr, 16) & 0x1200, 0x1200U) << host.out;
    auto r = run({"/bin/sh", "-c", "trap '' USR1 PIPE; exec \"$0\" \"$@\"", runtime_bin(), "--root",
                  b.state_root(), "run", "--bundle", b.dir(), b.id()});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "SigIgn:\t0000000000000000\n");
}

TEST(Config, ProcessIsInTheContainerCgroup) {
    Bundle b("cgroup");
    // Without a cgroup namespace the path is visible.
    auto& ns = b.config["linux"]["namespaces"];
    for (auto it = ns.begin(); it != ns.end(); ++it)
        if ((*it)["type"] == "cgroup") {
            ns.erase(it);
            break;
        }
    const std::string path = "/husk-it-cg/" + b.id();
    b.config["linux"]["cgroupsPath"] = path;
    b.save();
    auto r = probe(b);
    // The v1 controllers' lines on hybrid hosts, cgroup2's "0::" line on pure v2 hosts: the
    // process is where the config asked, in every controller hierarchy it is in.
    bool found = false;
    for (const auto& line : r["cgroup"]) {
        const auto l = line.get<std::string>();
        if (l.rfind("0::", 0) == 0 && r["cgroup"].size() > 1) continue;  // hybrid: v1 decides
        if (l.find(":name=") != std::string::npos) continue;             // named: not ours
        EXPECT_NE(l.find(":" + path), std::string::npos) << l;
        found = true;
    }
    EXPECT_TRUE(found) << r["cgroup"].dump();
    // The parent the config named stays (as with runc); remove it from every hierarchy.
    auto dirs = cgroups_named("/husk-it-cg");
    std::sort(dirs.rbegin(), dirs.rend());  // children first
    for (const auto& d : dirs) ::rmdir(d.c_str());
}

TEST(Config, NoPivotUsesChroot) {
    Bundle b("nopivot");
    b.args({"/bin/husk-probe"});
    auto r = b.runtime({"run", "--no-pivot", "--bundle", b.dir(), b.id()});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(last_json_line(r.out)["pid"], 1);
}

TEST(Config, JoinNetworkNamespaceByPath) {
    std::string name = "husk-it-net-" + std::to_string(::getpid());
    ASSERT_EQ(std::system(("ip netns add " + name).c_str()), 0);
    Bundle b("joinnet");
    for (auto& n : b.config["linux"]["namespaces"])
        if (n["type"] == "network") n["path"] = "/run/netns/" + name;
    b.save();
    auto r = probe(b);
    char buf[64] = {};
    ssize_t n = ::readlink(("/run/netns/" + name).c_str(), buf, sizeof buf);
    (void)n;
    struct stat st {};
    ::stat(("/run/netns/" + name).c_str(), &st);
    EXPECT_EQ(r["namespaces"]["net"], "net:[" + std::to_string(st.st_ino) + "]");
    std::system(("ip netns delete " + name).c_str());
}

// Pods share one PID namespace: the second container's init is not pid 1 there.
TEST(Config, JoinPidIpcAndUtsNamespacesByPath) {
    Bundle pod("rt2-podpid");
    pod.args({"/bin/sleep", "100"});
    std::string pod_id = pod.id();
    ASSERT_EQ(pod.runtime({"run", "--detach", "--bundle", pod.dir(), pod_id}).status, 0);
    int pod_pid = json::parse(pod.runtime({"state", pod_id}).out)["pid"];
    std::string base = "/proc/" + std::to_string(pod_pid) + "/ns/";
    auto ns_of = [&](const char* name) {
        char buf[64] = {};
        ssize_t n = ::readlink((base + name).c_str(), buf, sizeof buf - 1);
        return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
    };
    std::string pod_pidns = ns_of("pid"), pod_ipcns = ns_of("ipc"), pod_utsns = ns_of("uts");

    Bundle b("rt2-joinpid");
    for (auto& n : b.config["linux"]["namespaces"]) {
        std::string type = n["type"];
        if (type == "pid" || type == "ipc" || type == "uts") n["path"] = base + type;
    }
    b.config.erase("hostname");  // the pod's UTS namespace keeps the pod's name
    b.save();
    auto r = probe(b);
    pod.runtime({"delete", "--force", pod_id});
    EXPECT_EQ(r["namespaces"]["pid"], pod_pidns);
    EXPECT_EQ(r["namespaces"]["ipc"], pod_ipcns);
    EXPECT_EQ(r["namespaces"]["uts"], pod_utsns);
    EXPECT_GT(r["pid"].get<int>(), 1) << "pid 1 of the pod's namespace is the pod's sleep";
}
