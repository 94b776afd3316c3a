// create / start / state / kill / delete as engines drive them (client-calls.md).
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "../harness.h"

using namespace husk::test;
using nlohmann::json;

namespace {

std::string status(const Bundle& b, const std::string& id) {
    auto r = b.runtime({"state", id});
    if (r.status != 0) return "error: " + r.err;
    return json::parse(r.out)["status"].get<std::string>();
}

}  // namespace

TEST(Lifecycle, CreateStartStateDelete) {
    Bundle b("life");
    b.args({"/bin/sleep", "100"});
    std::string id = b.id();
    auto c = b.runtime({"create", "--bundle", b.dir(), "--pid-file", b.dir() + "/pid", id});
    ASSERT_EQ(c.status, 0) << c.err;
    EXPECT_EQ(c.out, "");
    EXPECT_EQ(c.err, "");
    std::string pid = read_file(b.dir() + "/pid");
    EXPECT_EQ(pid.find('\n'), std::string::npos) << "pid file has a trailing newline";
    auto st = json::parse(b.runtime({"state", id}).out);
    EXPECT_EQ(st["status"], "created");
    EXPECT_EQ(st["id"], id);
    EXPECT_EQ(std::to_string(st["pid"].get<int>()), pid);
    EXPECT_EQ(st["bundle"], b.dir());
    EXPECT_TRUE(st.contains("rootfs"));
    EXPECT_TRUE(st.contains("created"));
    EXPECT_TRUE(st.contains("owner"));
    EXPECT_EQ(st["ociVersion"].get<std::string>().substr(0, 2), "1.");

    ASSERT_EQ(b.runtime({"start", id}).status, 0);
    EXPECT_EQ(status(b, id), "running");
    // delete of a running container without --force is refused
    auto d = b.runtime({"delete", id});
    EXPECT_EQ(d.status, 1);
    EXPECT_NE(d.err.find("not stopped"), std::string::npos) << d.err;

    ASSERT_EQ(b.runtime({"kill", id, "9"}).status, 0);
    for (int i = 0; i < 100 && status(b, id) != "stopped"; ++i) usleep(20000);
    EXPECT_EQ(status(b, id), "stopped");
    auto st2 = json::parse(b.runtime({"state", id}).out);
    EXPECT_EQ(st2["pid"], 0);
    auto k = b.runtime({"kill", id, "15"});
    EXPECT_EQ(k.status, 1);
    EXPECT_NE(k.err.find("container not running"), std::string::npos) << k.err;
    ASSERT_EQ(b.runtime({"delete", id}).status, 0);
    auto gone = b.runtime({"state", id});
    EXPECT_EQ(gone.status, 1);
    EXPECT_NE(gone.err.find("container \"" + id + "\" does not exist"), std::string::npos)
        << gone.err;
    EXPECT_TRUE(mounts_under(b.rootfs()).empty());
    EXPECT_TRUE(cgroups_named(id).empty());
}

TEST(Lifecycle, DeleteOfCreatedContainerKillsItWithoutForce) {
    Bundle b("created");
    std::string id = b.id();
    ASSERT_EQ(b.runtime({"create", "--bundle", b.dir(), id}).status, 0);
    int pid = json::parse(b.runtime({"state", id}).out)["pid"];
    ASSERT_TRUE(alive(pid));
    auto d = b.runtime({"delete", id});
    ASSERT_EQ(d.status, 0) << d.err;
    EXPECT_FALSE(alive(pid));
    EXPECT_TRUE(cgroups_named(id).empty());
}

TEST(Lifecycle, DeleteForceOfMissingIdSucceeds) {
    Bundle b("force");
    EXPECT_EQ(b.runtime({"delete", "--force", "no-such-container"}).status, 0);
    auto d = b.runtime({"delete", "no-such-container"});
    EXPECT_EQ(d.status, 1);
    EXPECT_NE(d.err.find("does not exist"), std::string::npos);
    // A half-made state directory (a create that died) is cleaned up.
    ASSERT_EQ(::mkdir(b.state_root().c_str(), 0700) == 0 || errno == EEXIST, true);
    ASSERT_EQ(::mkdir((b.state_root() + "/half").c_str(), 0700), 0);
    EXPECT_EQ(b.runtime({"delete", "--force", "half"}).status, 0);
    EXPECT_NE(::access((b.state_root() + "/half").c_str(), F_OK), 0);
}

TEST(Lifecycle, ZombieInitCountsAsStopped) {
    // We are the subreaper: the exited init becomes our zombie and is not reaped.
    ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
    Bundle b("zombie");
    b.args({"/bin/true"});
    std::string id = b.id();
    ASSERT_EQ(b.runtime({"create", "--bundle", b.dir(), id}).status, 0);
    int pid = json::parse(b.runtime({"state", id}).out)["pid"];
    ASSERT_EQ(b.runtime({"start", id}).status, 0);
    for (int i = 0; i < 100 && alive(pid); ++i) usleep(20000);
    EXPECT_EQ(status(b, id), "stopped");
    EXPECT_EQ(b.runtime({"delete", id}).status, 0);
    int st = 0;
    EXPECT_EQ(::waitpid(pid, &st, 0), pid);
    EXPECT_TRUE(WIFEXITED(st));
    ::prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
}

TEST(Lifecycle, KillAllWithoutPidNamespaceReachesEveryProcess) {
    Bundle b("killall");
    auto& ns = b.config["linux"]["namespaces"];
    for (auto it = ns.begin(); it != ns.end(); ++it)
        if ((*it)["type"] == "pid") {
            ns.erase(it);
            break;
        }
    b.args({"/bin/sh", "-c", "sleep 100 & sleep 100 & wait"});
    std::string id = b.id();
    ASSERT_EQ(b.runtime({"run", "--detach", "--bundle", b.dir(), id}).status, 0);
    std::vector<int> pids;
    for (int i = 0; i < 100; ++i) {
        pids = json::parse(b.runtime({"ps", "--format", "json", id}).out).get<std::vector<int>>();
        if (pids.size() >= 3) break;
        usleep(20000);
    }
    ASSERT_GE(pids.size(), 3u);
    ASSERT_EQ(b.runtime({"kill", "--all", id, "KILL"}).status, 0);
    for (int p : pids) {
        for (int i = 0; i < 100 && alive(p); ++i) usleep(20000);
        EXPECT_FALSE(alive(p)) << "pid " << p << " survived kill --all";
    }
    EXPECT_EQ(b.runtime({"delete", id}).status, 0);
}

TEST(Lifecycle, RunReturnsTheExitCodeAndDeletes) {
    Bundle b("run");
    b.args({"/bin/sh", "-c", "echo hello; exit 7"});
    std::string id = b.id();
    auto r = b.runtime({"run", "--bundle", b.dir(), id});
    EXPECT_EQ(r.status, 7);
    EXPECT_EQ(r.out, "hello\n");
    EXPECT_EQ(b.runtime({"state", id}).status, 1);
    EXPECT_TRUE(cgroups_named(id).empty());
}

TEST(Lifecycle, ListShowsContainers) {
    Bundle b("list");
    b.args({"/bin/sleep", "100"});
    std::string a = b.id(), c = b.id();
    ASSERT_EQ(b.runtime({"create", "--bundle", b.dir(), a}).status, 0);
    ASSERT_EQ(b.runtime({"create", "--bundle", b.dir(), c}).status, 0);
    auto q = b.runtime({"list", "-q"});
    EXPECT_EQ(q.out, a + "\n" + c + "\n");
    auto j = json::parse(b.runtime({"list", "--format", "json"}).out);
    ASSERT_EQ(j.size(), 2u);
    EXPECT_EQ(j[0]["status"], "created");
    auto t = b.runtime({"list"});
    EXPECT_EQ(t.out.substr(0, 2), "ID");
    EXPECT_NE(t.out.find(a), std::string::npos);
}

TEST(Lifecycle, TwentyParallelCreates) {
    Bundle b("par");
    b.args({"/bin/sleep", "100"});
    std::vector<std::string> ids;
    for (int i = 0; i < 20; ++i) ids.push_back(b.id());
    std::vector<Result> results(20);
    std::vector<std::thread> threads;
    for (int i = 0; i < 20; ++i)
        threads.emplace_back([&, i] {
            results[i] = b.runtime({"create", "--bundle", b.dir(), ids[i]}, 60);
        });
    for (auto& t : threads) t.join();
    for (int i = 0; i < 20; ++i) EXPECT_EQ(results[i].status, 0) << results[i].err;
    auto j = json::parse(b.runtime({"list", "--format", "json"}).out);
    EXPECT_EQ(j.size(), 20u);
    for (auto& id : ids) EXPECT_EQ(b.runtime({"delete", id}).status, 0);
    EXPECT_TRUE(mounts_under(b.rootfs()).empty());
    for (auto& id : ids) EXPECT_TRUE(cgroups_named(id).empty()) << id;
}

// One read of /proc/self/mountinfo per create: the cgroup layout (cgroup::detect_layout)
// and the container's cgroup mounts (config.json's "cgroup" mount) share it and its parser.
TEST(Lifecycle, CreateReadsMountinfoOnce) {
    if (::access("/usr/bin/strace", X_OK) != 0) GTEST_SKIP() << "strace is not installed";
    Bundle b("lc-mountinfo");
    b.args({"/bin/true"});
    bool cgroup_mount = false;
    for (const auto& m : b.config["mounts"]) cgroup_mount |= m.value("type", "") == "cgroup";
    ASSERT_TRUE(cgroup_mount) << "the spec has no cgroup mount: nothing to share";
    const std::string trace = b.dir() + "/trace";
    auto r = run({"/usr/bin/strace", "-f", "-qq", "-o", trace, "-e", "trace=open,openat",
                  runtime_bin(), "--root", b.state_root(), "run", "--bundle", b.dir(), b.id()});
    ASSERT_EQ(r.status, 0) << r.err;
    std::string t = read_file(trace);
    size_t reads = 0;
    for (size_t at = 0; (at = t.find("/proc/self/mountinfo", at)) != std::string::npos; ++at)
        ++reads;
    EXPECT_EQ(reads, 1U) << t;
}
