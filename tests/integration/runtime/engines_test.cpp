// What engines ask of the runtime that runc answers in a particular way (issue 9:
// podman and containerd drive husk-runtime). Each test names the engine behaviour it guards.
#include <gtest/gtest.h>

#include "../harness.h"

using namespace husk::test;
using nlohmann::json;

// podman on cgroup v1 runs containers without a cgroup namespace and mounts "cgroup" at
// /sys/fs/cgroup: the container must see its own cgroup there (its limits), as runc
// shows it, not the host's root of each hierarchy.
TEST(Engines, CgroupMountWithoutCgroupNamespaceShowsTheContainersOwnCgroup) {
    Bundle b("cgmount");
    auto& ns = b.config["linux"]["namespaces"];
    json kept = json::array();
    for (const auto& n : ns)
        if (n["type"] != "cgroup") kept.push_back(n);
    ns = kept;
    auto& mounts = b.config["mounts"];
    json others = json::array();
    for (const auto& m : mounts)
        if (m["destination"] != "/sys/fs/cgroup") others.push_back(m);
    others.push_back({{"destination", "/sys/fs/cgroup"},
                      {"type", "cgroup"},
                      {"source", "cgroup"},
                      {"options", {"ro", "nosuid", "noexec", "nodev"}}});
    mounts = others;
    b.config["linux"]["resources"] = {{"pids", {{"limit", 20}}}};
    b.args({"/bin/sh", "-c",
            "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max"});
    auto r = b.runtime({"run", "--bundle", b.dir(), b.id()});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "20\n") << r.err;
}

// containerd's CRI for a pod with shareProcessNamespace, and podman --pid container:X,
// give a container the path of another's PID namespace: the container is born in it and
// sees the other container's init as PID 1.
TEST(Engines, JoinsAnotherContainersPidNamespace) {
    Bundle a("pidnsa");
    a.args({"/bin/sleep", "100"});
    std::string ida = a.id();
    ASSERT_EQ(a.runtime({"run", "--detach", "--bundle", a.dir(), ida}).status, 0);
    auto st = a.runtime({"state", ida});
    int pid = json::parse(st.out)["pid"].get<int>();

    Bundle b("pidnsb");
    for (auto& n : b.config["linux"]["namespaces"])
        if (n["type"] == "pid") n["path"] = "/proc/" + std::to_string(pid) + "/ns/pid";
    b.args({"/bin/cat", "/proc/1/comm"});
    auto r = b.runtime({"run", "--bundle", b.dir(), b.id()});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "sleep\n") << r.err;

    a.runtime({"kill", ida, "KILL"});
    a.runtime({"delete", "--force", ida});
}
