// OCI hooks run at the moments the spec gives, with the state on stdin.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "../harness.h"

using namespace husk::test;
using nlohmann::json;

namespace {

// A hook that appends "<name> <its stdin>" as one line to `log`.
json recorder(const std::string& name, const std::string& log) {
    return {{"path", "/bin/sh"},
            {"args",
             {"sh", "-c",
              "printf '%s ' " + name + " >> " + log + "; cat >> " + log + "; echo >> " + log}}};
}

}  // namespace

TEST(Hooks, EveryPhaseInOrderWithState) {
    Bundle b("hooks");
    std::string log = b.dir() + "/hooks.log";
    b.config["hooks"] = {{"prestart", {recorder("prestart", log)}},
                         {"createRuntime", {recorder("createRuntime", log)}},
                         {"createContainer", {recorder("createContainer", log)}},
                         // startContainer runs inside the container: its /tmp is rootfs/tmp.
                         {"startContainer", {recorder("startContainer", "/tmp/hooks.log")}},
                         {"poststart", {recorder("poststart", log)}},
                         {"poststop", {recorder("poststop", log)}}};
    b.args({"/bin/sleep", "100"});
    std::string id = b.id();
    auto c = b.runtime({"create", "--bundle", b.dir(), id});
    ASSERT_EQ(c.status, 0) << c.err;
    int pid = json::parse(b.runtime({"state", id}).out)["pid"];
    ASSERT_EQ(b.runtime({"start", id}).status, 0);
    for (int i = 0; i < 100 && ::access((b.rootfs() + "/tmp/hooks.log").c_str(), F_OK) != 0; ++i)
        usleep(20000);
    ASSERT_EQ(b.runtime({"delete", "--force", id}).status, 0);

    std::istringstream lines(read_file(log));
    std::vector<std::string> phases;
    std::string line;
    while (std::getline(lines, line)) {
        if (line.empty()) continue;
        auto sp = line.find(' ');
        phases.push_back(line.substr(0, sp));
        auto st = json::parse(line.substr(sp + 1));
        EXPECT_EQ(st["id"], id);
        EXPECT_EQ(st["bundle"], b.dir());
        const std::string& ph = phases.back();
        if (ph != "poststop") {
            EXPECT_EQ(st["pid"], pid) << line;
        }
        std::string want = ph == "poststart"  ? "running"
                           : ph == "poststop" ? "stopped"
                                              : "creating";
        EXPECT_EQ(st["status"], want) << line;
    }
    EXPECT_EQ(phases, (std::vector<std::string>{"prestart", "createRuntime", "createContainer",
                                                "poststart", "poststop"}));
    std::string inner = read_file(b.rootfs() + "/tmp/hooks.log");
    EXPECT_EQ(inner.rfind("startContainer {", 0), 0u) << inner;
}

TEST(Hooks, FailingCreateRuntimeHookFailsCreateAndLeavesNothing) {
    Bundle b("hooks-fail");
    b.config["hooks"] = {
        {"createRuntime",
         {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "echo nope >&2; exit 3"}}}}}};
    b.save();
    std::string id = b.id();
    auto r = b.runtime({"create", "--bundle", b.dir(), id});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("createRuntime hook #0 \"/bin/sh\": exit status 3: nope"),
              std::string::npos)
        << r.err;
    EXPECT_NE(::access((b.state_root() + "/" + id).c_str(), F_OK), 0);
    EXPECT_TRUE(cgroups_named(id).empty());
}

TEST(Hooks, FailingCreateContainerHookNamesItself) {
    Bundle b("hooks-cc");
    b.config["hooks"] = {{"createContainer", {{{"path", "/bin/false"}}}}};
    b.save();
    std::string id = b.id();
    auto r = b.runtime({"create", "--bundle", b.dir(), id});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("createContainer hook \"/bin/false\": exit status 1"), std::string::npos)
        << r.err;
    EXPECT_NE(::access((b.state_root() + "/" + id).c_str(), F_OK), 0);
}

TEST(Hooks, MissingHookBinaryAndTimeout) {
    Bundle b("hooks-missing");
    b.config["hooks"] = {{"prestart", {{{"path", "/no/such/hook"}}}}};
    b.save();
    auto r = b.runtime({"create", "--bundle", b.dir(), b.id()});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("\"/no/such/hook\": exit status 127 (not found or not executable)"),
              std::string::npos)
        << r.err;
    b.config["hooks"] = {
        {"prestart", {{{"path", "/bin/sleep"}, {"args", {"sleep", "30"}}, {"timeout", 1}}}}};
    b.save();
    auto t = b.runtime({"create", "--bundle", b.dir(), b.id()});
    EXPECT_EQ(t.status, 1);
    EXPECT_NE(t.err.find("prestart hook #0 \"/bin/sleep\": timed out"), std::string::npos) << t.err;
}

TEST(Hooks, FailingPoststopOnlyWarns) {
    Bundle b("hooks-poststop");
    b.config["hooks"] = {{"poststop", {{{"path", "/bin/false"}}}}};
    b.save();
    std::string id = b.id();
    ASSERT_EQ(b.runtime({"create", "--bundle", b.dir(), id}).status, 0);
    auto d = b.runtime({"delete", "--force", id});
    EXPECT_EQ(d.status, 0);
    EXPECT_NE(d.err.find("poststop hook #0"), std::string::npos) << d.err;
    EXPECT_EQ(b.runtime({"state", id}).status, 1);
}
