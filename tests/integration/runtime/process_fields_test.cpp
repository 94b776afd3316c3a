// The process-level fields of runtime-spec 1.2/1.3 and runc's process conventions
// (session keyring, scheduler, I/O priority, exec CPU affinity, memory policy,
// personality, socket activation), as the container process sees them.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <iterator>

#include "../harness.h"

using namespace husk::test;
using nlohmann::json;

namespace {

long own_session_keyring() {
    return ::syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
}

cpu_set_t own_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    ::sched_getaffinity(0, sizeof set, &set);
    return set;
}

}  // namespace

TEST(ProcessFields, NewSessionKeyringByDefaultAsRunc) {
    long host = own_session_keyring();
    if (host < 0 && errno == ENOSYS) GTEST_SKIP() << "the kernel has no keyrings";
    Bundle b("rt2-keyring");
    json r = run_probe_json(b);
    ASSERT_TRUE(r["session_keyring"].is_object()) << r.dump();
    EXPECT_NE(r["session_keyring"]["serial"], host);
    EXPECT_EQ(r["session_keyring"]["name"].get<std::string>().rfind("_ses.rt2-keyring-", 0), 0u)
        << r["session_keyring"];
}

TEST(ProcessFields, NoNewKeyringKeepsTheCallersSessionKeyring) {
    long host = own_session_keyring();
    if (host < 0 && errno == ENOSYS) GTEST_SKIP() << "the kernel has no keyrings";
    Bundle b("rt2-nokeyring");
    json r = run_probe_json(b, {"--no-new-keyring"});
    ASSERT_TRUE(r["session_keyring"].is_object()) << r.dump();
    EXPECT_EQ(r["session_keyring"]["serial"], host);
}

TEST(ProcessFields, ExecJoinsTheContainersSessionKeyring) {
    Bundle b("rt2-keyexec");
    b.args({"/bin/sleep", "100"});
    std::string id = b.id();
    ASSERT_EQ(b.runtime({"run", "--detach", "--bundle", b.dir(), id}).status, 0);
    auto r = b.runtime({"exec", id, "/bin/husk-probe"});
    b.runtime({"delete", "--force", id});
    ASSERT_EQ(r.status, 0) << r.err;
    json p = last_json_line(r.out);
    EXPECT_EQ(p["session_keyring"]["name"], "_ses." + id);
}

TEST(ProcessFields, SchedulerPolicyAndNice) {
    Bundle b("rt2-sched");
    b.config["process"]["scheduler"] = {{"policy", "SCHED_BATCH"}, {"nice", 7}};
    b.save();
    json r = run_probe_json(b);
    EXPECT_EQ(r["sched"]["policy"], "SCHED_BATCH") << r["sched"];
    EXPECT_EQ(r["sched"]["nice"], 7);
}

TEST(ProcessFields, RealtimePolicyWithoutPriorityNamesTheField) {
    Bundle b("rt2-schedbad");
    b.config["process"]["scheduler"] = {{"policy", "SCHED_FIFO"}};
    b.save();
    auto r = b.runtime({"run", "--bundle", b.dir(), b.id()});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("process.scheduler.priority"), std::string::npos) << r.err;
}

TEST(ProcessFields, IoPriority) {
    Bundle b("rt2-ioprio");
    b.config["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_BE"}, {"priority", 6}};
    b.save();
    json r = run_probe_json(b);
    EXPECT_EQ(r["ioprio"]["class"], "IOPRIO_CLASS_BE") << r["ioprio"];
    EXPECT_EQ(r["ioprio"]["priority"], 6);
}

TEST(ProcessFields, MemoryPolicy) {
    if (::syscall(SYS_get_mempolicy, nullptr, nullptr, 0, nullptr, 0) != 0 && errno == ENOSYS)
        GTEST_SKIP() << "the kernel has no NUMA memory policies (CONFIG_NUMA)";
    Bundle b("rt2-mempol");
    b.config["linux"]["memoryPolicy"] = {{"mode", "MPOL_BIND"}, {"nodes", "0"}};
    b.save();
    json r = run_probe_json(b);
    EXPECT_EQ(r["mempolicy"], 2) << "MPOL_BIND";
    b.config["linux"]["memoryPolicy"] = {{"mode", "MPOL_LOCAL"}, {"nodes", "0"}};
    b.save();
    auto bad = b.runtime({"run", "--bundle", b.dir(), b.id()});
    EXPECT_EQ(bad.status, 1);
    EXPECT_NE(bad.err.find("linux.memoryPolicy.nodes"), std::string::npos) << bad.err;
}

TEST(ProcessFields, ExecCpuAffinityFinalIsWhatTheProcessRunsOn) {
    cpu_set_t ours = own_cpus();
    if (!CPU_ISSET(0, &ours) || !CPU_ISSET(1, &ours))
        GTEST_SKIP() << "needs CPUs 0 and 1 (this machine has " << CPU_COUNT(&ours) << ")";
    Bundle b("rt2-affinity");
    b.args({"/bin/sleep", "100"});
    std::string id = b.id();
    ASSERT_EQ(b.runtime({"run", "--detach", "--bundle", b.dir(), id}).status, 0);
    json proc = b.config["process"];
    proc["args"] = {"/bin/husk-probe"};
    proc["execCPUAffinity"] = {{"initial", "0"}, {"final", "1"}};
    std::string file = b.dir() + "/process.json";
    { std::ofstream(file) << proc.dump(); }
    auto r = b.runtime({"exec", "--process", file, id});
    b.runtime({"delete", "--force", id});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(last_json_line(r.out)["cpu_affinity"], "1");
}

// As runc: a runtime started on fewer CPUs (taskset) does not pin the container to them.
TEST(ProcessFields, CpuAffinityIsResetForTheInitAndExec) {
    cpu_set_t ours = own_cpus();
    if (!CPU_ISSET(0, &ours) || !CPU_ISSET(1, &ours))
        GTEST_SKIP() << "needs CPUs 0 and 1 (this machine has " << CPU_COUNT(&ours) << ")";
    Bundle b("rt2-affreset");
    json ref = run_probe_json(b);  // what a container gets from a runtime on every CPU
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    ASSERT_EQ(::sched_setaffinity(0, sizeof one, &one), 0);
    json r = run_probe_json(b);
    b.args({"/bin/sleep", "100"});
    std::string id = b.id();
    auto started = b.runtime({"run", "--detach", "--bundle", b.dir(), id});
    auto ex = b.runtime({"exec", id, "/bin/husk-probe"});
    ::sched_setaffinity(0, sizeof ours, &ours);
    b.runtime({"delete", "--force", id});
    EXPECT_NE(ref["cpu_affinity"], "0");
    EXPECT_EQ(r["cpu_affinity"], ref["cpu_affinity"]) << "init";
    ASSERT_EQ(started.status, 0) << started.err;
    ASSERT_EQ(ex.status, 0) << ex.err;
    EXPECT_EQ(last_json_line(ex.out)["cpu_affinity"], ref["cpu_affinity"]) << "exec";
}

TEST(ProcessFields, PersonalityLinux32IsSeenByUname) {
    Bundle b("rt2-linux32");
    b.config["linux"]["personality"] = {{"domain", "LINUX32"}};
    b.save();
    json r = run_probe_json(b);
    EXPECT_EQ(r["machine"], "i686");
    b.args({"/bin/uname", "-m"});
    auto u = b.runtime({"run", "--bundle", b.dir(), b.id()});
    ASSERT_EQ(u.status, 0) << u.err;
    EXPECT_EQ(u.out, "i686\n");
}

TEST(ProcessFields, SocketActivationFdsAndEnvReachTheContainer) {
    Bundle b("rt2-listen");
    std::string out = b.dir() + "/run.out", err = b.dir() + "/run.err";
    std::string bin = runtime_bin(), root = b.state_root(), dir = b.dir(), id = b.id();
    pid_t c = ::fork();
    if (c == 0) {
        ::dup2(::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 1);
        ::dup2(::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 2);
        // Two "sockets" from a systemd-like caller at 3 and 4, one --preserve-fds at 5.
        for (int fd = 3; fd <= 5; ++fd) ::dup2(::open("/dev/null", O_RDWR), fd);
        ::setenv("LISTEN_FDS", "2", 1);
        ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
        const char* argv[] = {bin.c_str(), "--root",   root.c_str(), "run",      "--preserve-fds",
                              "1",         "--bundle", dir.c_str(),  id.c_str(), nullptr};
        ::execv(argv[0], const_cast<char**>(argv));
        ::_exit(127);
    }
    int st = 0;
    ::waitpid(c, &st, 0);
    std::ifstream o(out), e(err);
    std::string report((std::istreambuf_iterator<char>(o)), {}),
        errs((std::istreambuf_iterator<char>(e)), {});
    ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << errs;
    json r = last_json_line(report);
    EXPECT_EQ(r["fds"], json({0, 1, 2, 3, 4, 5}));
    auto env = r["env"];
    EXPECT_NE(std::find(env.begin(), env.end(), "LISTEN_FDS=2"), env.end()) << env;
    EXPECT_NE(std::find(env.begin(), env.end(), "LISTEN_PID=1"), env.end()) << env;
}
