// CVE-2025-52881 class: writes the runtime makes to /proc (sysctl, oom_score_adj)
// redirected by mounts over /proc to other files — fake ones, or procfs files of
// other processes. CVE-2019-16884 class: a mount over /proc faking procfs files.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attack_util.h"

using namespace husk::test;
using namespace husk::test::attack;
using nlohmann::json;

namespace {

// A host process whose oom_score_adj must not change: the target of the redirections.
struct Victim {
    pid_t pid = -1;
    Victim() {
        pid = ::fork();
        if (pid == 0) {
            ::execl("/bin/sleep", "sleep", "120", nullptr);
            ::_exit(127);
        }
    }
    ~Victim() {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
    std::string oom_path() const { return "/proc/" + std::to_string(pid) + "/oom_score_adj"; }
    std::string oom() const { return read_file(oom_path()); }
};

void add_bind(Bundle& b, const std::string& src, const std::string& dest) {
    b.config["mounts"].push_back(
        {{"destination", dest}, {"type", "bind"}, {"source", src}, {"options", {"bind", "rw"}}});
}

// /proc/sys read-only (the default readonlyPaths) would stop the sysctl writes by itself:
// take it out so the tests see the runtime's own defence.
void writable_proc_sys(Bundle& b) {
    auto& ro = b.config["linux"]["readonlyPaths"];
    for (auto it = ro.begin(); it != ro.end();) it = *it == "/proc/sys" ? ro.erase(it) : it + 1;
    b.save();
}

void expect_refused(Bundle& b, const std::string& what) {
    std::string id;
    Result r = create(b, &id);
    EXPECT_NE(r.status, 0) << what << ": create succeeded";
    if (r.status == 0) b.runtime({"delete", "--force", id});
    EXPECT_EQ(b.runtime({"state", id}).status, 1);
    EXPECT_TRUE(cgroups_named(id).empty()) << what << ": the refused create left its cgroup";
}

}  // namespace

TEST(SecurityAttackCVE_2025_52881, SysctlWriteRedirectedToAFakeFileIsRefused) {
    Bundle b("sectests-sysfake");
    writable_proc_sys(b);
    std::string fake = b.dir() + "/fakesys";
    ASSERT_EQ(std::system(("mkdir -p '" + fake + "/net/ipv4'").c_str()), 0);
    write_file(fake + "/net/ipv4/ip_forward", "0\n");
    add_bind(b, fake, "/proc/sys");
    b.config["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
    b.save();
    expect_refused(b, "sysctl through a bind over /proc/sys");
    EXPECT_EQ(read_file(fake + "/net/ipv4/ip_forward"), "0\n")
        << "the sysctl write went to the fake file";
}

TEST(SecurityAttackCVE_2025_52881, SysctlWriteRedirectedToAnotherProcfsFileIsRefused) {
    Bundle b("sectests-sysproc");
    writable_proc_sys(b);
    Victim v;
    std::string before = v.oom();
    // A procfs file of a host process, bound over the sysctl: fstatfs says "procfs".
    add_bind(b, v.oom_path(), "/proc/sys/net/ipv4/ip_forward");
    b.config["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
    b.save();
    expect_refused(b, "sysctl redirected to another procfs file");
    EXPECT_EQ(v.oom(), before) << "the sysctl write reached a host process's oom_score_adj";
}

TEST(SecurityAttackCVE_2025_52881, OomScoreAdjRedirectedToAnotherProcessIsRefused) {
    Bundle b("sectests-oom");
    Victim v;
    std::string before = v.oom();
    add_bind(b, v.oom_path(), "/proc/self/oom_score_adj");
    b.config["process"]["oomScoreAdj"] = 500;
    b.save();
    expect_refused(b, "oom_score_adj redirected to a host process");
    EXPECT_EQ(v.oom(), before) << "the container's oom_score_adj was written to a host process";
}

TEST(SecurityAttackCVE_2025_52881, SysctlAndOomScoreAdjStillWorkWithoutTricks) {
    // Control: the refusals above are not refusals of every write.
    // Default readonlyPaths (/proc/sys read-only) included: sysctls are written before.
    Bundle b("sectests-sysok");
    b.config["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
    b.config["process"]["oomScoreAdj"] = 300;
    b.save();
    json p = run_probe(b);
    EXPECT_EQ(p["oom_score_adj"], 300);
}

TEST(SecurityAttackCVE_2019_16884, MountOverProcFakingProcfsFilesIsRefused) {
    Bundle b("sectests-fakeproc");
    writable_proc_sys(b);
    std::string fake = b.dir() + "/fakeproc";
    ASSERT_EQ(
        std::system(("mkdir -p '" + fake + "/self/attr' '" + fake + "/sys/net/ipv4'").c_str()), 0);
    write_file(fake + "/self/attr/current", "unconfined\n");
    write_file(fake + "/self/oom_score_adj", "0\n");
    write_file(fake + "/sys/net/ipv4/ip_forward", "0\n");
    add_bind(b, fake, "/proc");
    b.save();
    // Even with nothing for the runtime to write there: /proc must be real procfs.
    expect_refused(b, "a bind of a plain directory over /proc");

    b.config["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
    b.config["process"]["oomScoreAdj"] = 500;
    b.save();
    expect_refused(b, "sysctl and oom_score_adj with a fake /proc");
    EXPECT_EQ(read_file(fake + "/self/oom_score_adj"), "0\n");
    EXPECT_EQ(read_file(fake + "/sys/net/ipv4/ip_forward"), "0\n");
}

TEST(SecurityAttackCVE_2019_16884, MountOntoProcThroughASymlinkIsRefused) {
    Bundle b("sectests-proclink");
    std::string fake = b.dir() + "/fakesys";
    ASSERT_EQ(::mkdir(fake.c_str(), 0755), 0);
    // "/myproc/sys" is not "/proc/sys" as a string, but resolves there inside the root.
    ASSERT_EQ(::symlink("/proc", (b.rootfs() + "/myproc").c_str()), 0);
    add_bind(b, fake, "/myproc/sys");
    b.save();
    expect_refused(b, "a bind onto /proc/sys through a symlink");
}

TEST(SecurityAttackCVE_2019_16884, ProcMountAndLxcfsStyleBindsStillWork) {
    // Control: runc's allow-list (files lxcfs emulates) may be bound under /proc.
    Bundle b("sectests-lxcfs");
    std::string fake = b.dir() + "/uptime";
    write_file(fake, "12345.00 1.00\n");
    add_bind(b, fake, "/proc/uptime");
    b.save();
    json p = run_probe(b);
    EXPECT_EQ(p["uptime"], 12345.00);
}
