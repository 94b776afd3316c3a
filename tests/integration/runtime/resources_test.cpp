// Limits that hold inside real containers; update, pause/resume and events.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "../harness.h"

using namespace husk::test;
using nlohmann::json;

namespace {

std::string status(const Bundle& b, const std::string& id) {
    auto r = b.runtime({"state", id});
    return r.status == 0 ? json::parse(r.out)["status"].get<std::string>() : "error";
}

// The first line of the container's cgroup file for `controller`: `v1` in its v1
// hierarchy, `v2` where the controller is in cgroup2 (pure v2 hosts).
std::string cgroup_file(const std::string& controller, const std::string& id, const std::string& v1,
                        const std::string& v2) {
    std::string dir = cgroup_dir(id, controller);
    std::ifstream f(dir + "/" + (exists(dir + "/" + v1) ? v1 : v2));
    std::string s;
    std::getline(f, s);
    return s;
}

}  // namespace

TEST(Resources, ForkBombStopsAtThePidsLimitAndTheHostIsFine) {
    Bundle b("forkbomb");
    b.config["linux"]["resources"] = {{"pids", {{"limit", 20}}}};
    b.args({"/bin/husk-probe", "fork-bomb", "100"});
    std::string id = b.id();
    auto bomb = b.runtime({"run", "--bundle", b.dir(), id}, 60);
    auto j = last_json_line(bomb.out);
    // The probe itself is one task: at most 19 more.
    EXPECT_LE(j["forked"].get<int>(), 19) << bomb.out;
    EXPECT_EQ(j["errno"], EAGAIN) << bomb.out;
    // The host can still start processes.
    EXPECT_EQ(std::system("/bin/true"), 0);
    EXPECT_TRUE(cgroups_named(id).empty());
}

TEST(Resources, MemoryLimitEndsInAnOomKill) {
    Bundle b("oomkill");
    b.config["linux"]["resources"] = {{"memory", {{"limit", 32 << 20}, {"swap", 32 << 20}}}};
    b.args({"/bin/husk-probe", "alloc", "100"});
    std::string id = b.id();
    auto r = b.runtime({"run", "--bundle", b.dir(), id}, 60);
    // A hung runtime is killed by the harness: reported as a timeout, not as this 137.
    EXPECT_FALSE(r.timed_out()) << r.err;
    EXPECT_EQ(r.status, 137) << r.out << r.err;
    // The probe never got its 100 MiB: it reports {"ok":true} only after touching them all.
    EXPECT_EQ(r.out.find("\"ok\":true"), std::string::npos) << r.out;
    EXPECT_TRUE(cgroups_named(id).empty());
}

TEST(Resources, UpdatePauseResumeAndEvents) {
    Bundle b("update");
    b.config["linux"]["resources"] = {{"pids", {{"limit", 50}}}, {"memory", {{"limit", 64 << 20}}}};
    b.args({"/bin/sleep", "100"});
    std::string id = b.id();
    ASSERT_EQ(b.runtime({"run", "--detach", "--bundle", b.dir(), id}).status, 0);
    EXPECT_EQ(cgroup_file("pids", id, "pids.max", "pids.max"), "50");
    auto u = b.runtime({"update", "--pids-limit", "30", "--memory", "128m", id});
    ASSERT_EQ(u.status, 0) << u.err;
    EXPECT_EQ(cgroup_file("pids", id, "pids.max", "pids.max"), "30");
    EXPECT_EQ(cgroup_file("memory", id, "memory.limit_in_bytes", "memory.max"),
              std::to_string(128 << 20));
    std::ofstream(b.dir() + "/res.json") << R"({"pids": {"limit": 25}})";
    ASSERT_EQ(b.runtime({"update", "--resources", b.dir() + "/res.json", id}).status, 0);
    EXPECT_EQ(cgroup_file("pids", id, "pids.max", "pids.max"), "25");

    ASSERT_EQ(b.runtime({"pause", id}).status, 0);
    EXPECT_EQ(status(b, id), "paused");
    // v1: freezer.state FROZEN; v2: cgroup.freeze 1
    auto frozen = cgroup_file("freezer", id, "freezer.state", "cgroup.freeze");
    EXPECT_TRUE(frozen == "FROZEN" || frozen == "1") << frozen;
    auto again = b.runtime({"resume", id});
    ASSERT_EQ(again.status, 0);
    EXPECT_EQ(status(b, id), "running");
    auto notpaused = b.runtime({"resume", id});
    EXPECT_EQ(notpaused.status, 1);
    EXPECT_NE(notpaused.err.find("not paused"), std::string::npos);

    auto ev = b.runtime({"events", "--stats", id});
    ASSERT_EQ(ev.status, 0) << ev.err;
    auto j = json::parse(ev.out);
    EXPECT_EQ(j["type"], "stats");
    EXPECT_EQ(j["id"], id);
    EXPECT_TRUE(j["data"].contains("pids")) << ev.out;
    EXPECT_TRUE(j["data"].contains("memory")) << ev.out;

    // A paused container can be deleted with --force.
    ASSERT_EQ(b.runtime({"pause", id}).status, 0);
    EXPECT_EQ(b.runtime({"delete", "--force", id}).status, 0);
    EXPECT_TRUE(cgroups_named(id).empty());
}

TEST(Resources, EventsStreamReportsOom) {
    Bundle b("events-oom");
    b.config["linux"]["resources"] = {{"memory", {{"limit", 32 << 20}, {"swap", 32 << 20}}}};
    // A child of the init is OOM-killed; the init lives on so the stream can report it.
    // The allocation starts once `events` runs (it counts OOM kills from its start): the
    // second thread makes /go in the container's root when it sees the `events` process.
    b.args({"/bin/sh", "-c",
            "while [ ! -e /go ]; do sleep 0.1; done; /bin/husk-probe alloc 100; sleep 100"});
    std::string id = b.id();
    ASSERT_EQ(b.runtime({"run", "--detach", "--bundle", b.dir(), id}).status, 0);
    // `events` ends when the container stops: stop it from the second thread once the
    // cgroup has counted the OOM kill and `events` (polling each second) has had two
    // ticks to see it; at the latest after 40 s (under load the allocation may crawl).
    auto events_running = [&id] {
        for (const auto& e : std::filesystem::directory_iterator("/proc")) {
            std::ifstream f(e.path() / "cmdline");
            std::string cmd((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
            if (cmd.find(std::string("events") + '\0') != std::string::npos &&
                cmd.find(id) != std::string::npos)
                return true;
        }
        return false;
    };
    auto oom_killed = [&id] {
        std::string dir = cgroup_dir(id, "memory");
        std::ifstream f(
            dir + (exists(dir + "/memory.oom_control") ? "/memory.oom_control" : "/memory.events"));
        for (std::string line; std::getline(f, line);)
            if (line.starts_with("oom_kill ") && line != "oom_kill 0") return true;
        return false;
    };
    std::thread killer([&] {
        for (int i = 0; i < 300 && !events_running(); ++i) usleep(100 * 1000);
        usleep(500 * 1000);  // its first reading of the count
        std::ofstream(b.rootfs() + "/go").put('\n');
        for (int i = 0; i < 400 && !oom_killed(); ++i) usleep(100 * 1000);
        usleep(2500 * 1000);
        b.runtime({"kill", id, "9"});
    });
    auto ev = b.runtime({"events", "--interval", "1", id}, 60);
    killer.join();
    EXPECT_NE(ev.out.find("\"type\":\"oom\""), std::string::npos) << ev.out << ev.err;
    EXPECT_NE(ev.out.find("\"type\":\"stats\""), std::string::npos);
    b.runtime({"delete", "--force", id});
}
