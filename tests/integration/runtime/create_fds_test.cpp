// The fds a create opens while planning (namespaces joined by path, idmapped binds) are
// owned by the plan: a create that fails after planning leaves none of them open in the
// process that called it (an engine creating many containers would run out of fds).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../harness.h"
#include "runtime/container.h"
#include "sys/error.h"

using namespace husk::test;
using nlohmann::json;

TEST(CreateFds, CreateFailingAfterPlanningLeavesNoFdOpen) {
    if (::geteuid() != 0) GTEST_SKIP() << "creating a container needs root";
    Bundle b("rt-fds");
    // A user namespace that does not map the owner of this test binary, so create does not
    // re-execute it from a read-only copy (self_protect.h); the cgroup mount goes with it.
    ::chmod(b.dir().c_str(), 0755);
    json maps = json::array({{{"containerID", 0}, {"hostID", 200000}, {"size", 65536}}});
    b.config["linux"]["namespaces"].push_back({{"type", "user"}});
    b.config["linux"]["uidMappings"] = maps;
    b.config["linux"]["gidMappings"] = maps;
    auto& m = b.config["mounts"];
    for (auto it = m.begin(); it != m.end();) it = (*it)["type"] == "cgroup" ? m.erase(it) : it + 1;
    // Planning opens these: two namespaces joined by path and an idmapped bind.
    for (const char* type : {"ipc", "uts"}) {
        auto& ns = b.config["linux"]["namespaces"];
        for (auto it = ns.begin(); it != ns.end();)
            it = (*it)["type"] == type ? ns.erase(it) : it + 1;
        ns.push_back({{"type", type}, {"path", std::string("/proc/self/ns/") + type}});
    }
    std::string data = b.dir() + "/data";
    ::mkdir(data.c_str(), 0755);
    m.push_back({{"destination", "/data"},
                 {"type", "bind"},
                 {"source", data},
                 {"options", {"bind", "idmap"}}});
    // ... and what fails after planning: the console socket to send the pty to is missing.
    b.config["process"]["terminal"] = true;
    b.save();

    husk::runtime::CreateOptions o;
    o.root = b.state_root();
    o.id = b.id();
    o.bundle = b.dir();
    o.console_socket = b.dir() + "/no-such-console.sock";
    std::vector<std::string> before = list_dir("/proc/self/fd");
    std::string error;
    try {
        husk::runtime::create(o);
    } catch (const husk::Error& e) {
        error = e.what();
    }
    std::vector<std::string> after = list_dir("/proc/self/fd");
    if (error.find("idmap") != std::string::npos)
        GTEST_SKIP() << "idmapped mounts are not available here: " << error;
    EXPECT_NE(error.find("no-such-console.sock"), std::string::npos) << error;
    EXPECT_EQ(after, before) << "fds left open by a failed create";
}
