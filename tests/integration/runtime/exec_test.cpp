// exec: a new process in a running container, as runc's exec.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "../harness.h"

using namespace husk::test;
using nlohmann::json;

namespace {

std::string start_sleeper(Bundle& b) {
    b.config["hostname"] = "exec-host";
    b.args({"/bin/sleep", "100"});
    std::string id = b.id();
    auto r = b.runtime({"run", "--detach", "--bundle", b.dir(), id});
    EXPECT_EQ(r.status, 0) << r.err;
    return id;
}

}  // namespace

TEST(Exec, JoinsTheContainerAndReturnsTheExitCode) {
    Bundle b("exec");
    std::string id = start_sleeper(b);
    auto r = b.runtime({"exec", id, "/bin/sh", "-c", "echo $$; hostname; exit 5"});
    EXPECT_EQ(r.status, 5) << r.err;
    EXPECT_EQ(r.out, "2\nexec-host\n");
    auto probe = b.runtime({"exec", id, "/bin/husk-probe"});
    ASSERT_EQ(probe.status, 0) << probe.err;
    auto j = last_json_line(probe.out);
    EXPECT_NE(j["pid"], 1);
    EXPECT_EQ(j["fds"], json({0, 1, 2}));
    // The same capabilities as the container's process, and its cgroup.
    EXPECT_EQ(j["capabilities"]["CapBnd"],
              "0000000020000420");  // the spec default: AUDIT_WRITE KILL NET_BIND_SERVICE
    EXPECT_EQ(b.runtime({"delete", "--force", id}).status, 0);
}

TEST(Exec, UserEnvCwdAndProcessJson) {
    Bundle b("exec-user");
    std::string id = start_sleeper(b);
    auto r = b.runtime({"exec", "-u", "1000:1000", "--cwd", "/tmp", "-e", "FOO=bar", id, "/bin/sh",
                        "-c", "id -u; id -g; pwd; echo $FOO"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "1000\n1000\n/tmp\nbar\n");
    std::ofstream(b.dir() + "/process.json")
        << R"({"args":["/bin/sh","-c","echo from-json; cat /proc/self/status | grep NoNewPrivs"],"cwd":"/","env":["PATH=/bin"],"noNewPrivileges":true})";
    auto p = b.runtime({"exec", "--process", b.dir() + "/process.json", id});
    EXPECT_EQ(p.status, 0) << p.err;
    EXPECT_NE(p.out.find("from-json"), std::string::npos);
    EXPECT_NE(p.out.find("NoNewPrivs:\t1"), std::string::npos) << p.out;
    b.runtime({"delete", "--force", id});
}

TEST(Exec, DetachWritesThePidFile) {
    Bundle b("exec-detach");
    std::string id = start_sleeper(b);
    auto r = b.runtime(
        {"exec", "--detach", "--pid-file", b.dir() + "/exec.pid", id, "/bin/sleep", "30"});
    ASSERT_EQ(r.status, 0) << r.err;
    std::ifstream f(b.dir() + "/exec.pid");
    int pid = 0;
    f >> pid;
    EXPECT_TRUE(alive(pid));
    auto ps = json::parse(b.runtime({"ps", "--format", "json", id}).out);
    EXPECT_NE(std::find(ps.begin(), ps.end(), pid), ps.end()) << ps.dump();
    b.runtime({"delete", "--force", id});
    for (int i = 0; i < 100 && alive(pid); ++i) usleep(20000);
    EXPECT_FALSE(alive(pid));
}

TEST(Exec, RefusedInStoppedOrPausedContainersAndMissingCommands) {
    Bundle b("exec-refuse");
    std::string id = start_sleeper(b);
    auto nf = b.runtime({"exec", id, "no-such-command"});
    EXPECT_EQ(nf.status, 1);
    EXPECT_NE(nf.err.find("executable file not found in $PATH"), std::string::npos) << nf.err;
    ASSERT_EQ(b.runtime({"pause", id}).status, 0);
    auto paused = b.runtime({"exec", id, "/bin/true"});
    EXPECT_EQ(paused.status, 1);
    EXPECT_NE(paused.err.find("cannot exec in a paused container"), std::string::npos)
        << paused.err;
    ASSERT_EQ(b.runtime({"resume", id}).status, 0);
    ASSERT_EQ(b.runtime({"kill", id, "KILL"}).status, 0);
    for (int i = 0; i < 100; ++i) {
        if (json::parse(b.runtime({"state", id}).out)["status"] == "stopped") break;
        usleep(20000);
    }
    auto stopped = b.runtime({"exec", id, "/bin/true"});
    EXPECT_EQ(stopped.status, 1);
    EXPECT_NE(stopped.err.find("cannot exec in a stopped container"), std::string::npos)
        << stopped.err;
    b.runtime({"delete", "--force", id});
    std::ofstream(b.dir() + "/bad.json") << R"({"cwd":"/"})";
    auto bad = b.runtime({"exec", "--process", b.dir() + "/bad.json", "whatever"});
    EXPECT_EQ(bad.status, 1);
}
