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
