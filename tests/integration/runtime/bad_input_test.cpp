// Bad input: one clear line naming what is wrong, exit 1, nothing left behind.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "../harness.h"

using namespace husk::test;
using nlohmann::json;

namespace {

void expect_nothing_left(const Bundle& b, const std::string& id) {
    EXPECT_NE(::access((b.state_root() + "/" + id).c_str(), F_OK), 0) << "state dir left behind";
    EXPECT_TRUE(cgroups_named(id).empty()) << "cgroup left behind";
    EXPECT_TRUE(mounts_under(b.rootfs()).empty()) << "mount left behind";
}

int lines(const std::string& s) {
    int n = 0;
    for (char c : s) n += c == '\n';
    return n;
}

}  // namespace

TEST(BadInput, MissingBundle) {
    Bundle b("bad-bundle");
    std::string id = b.id();
    auto r = b.runtime({"create", "--bundle", b.dir() + "/nope", id});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(b.dir() + "/nope"), std::string::npos) << r.err;
    expect_nothing_left(b, id);
}

TEST(BadInput, ConfigNotJson) {
    Bundle b("bad-json");
    std::ofstream(b.dir() + "/config.json") << "{ not json";
    std::string id = b.id();
    auto r = b.runtime({"create", "--bundle", b.dir(), id});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("config.json"), std::string::npos) << r.err;
    expect_nothing_left(b, id);
}

TEST(BadInput, WrongTypeNamesTheField) {
    Bundle b("bad-type");
    b.config["linux"]["resources"] = {{"memory", {{"limit", "64m"}}}};
    b.save();
    std::string id = b.id();
    auto r = b.runtime({"create", "--bundle", b.dir(), id});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("linux.resources.memory.limit"), std::string::npos) << r.err;
    expect_nothing_left(b, id);
}

TEST(BadInput, RootfsMissing) {
    Bundle b("bad-rootfs");
    b.config["root"]["path"] = "missing-rootfs";
    b.save();
    std::string id = b.id();
    auto r = b.runtime({"create", "--bundle", b.dir(), id});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("missing-rootfs"), std::string::npos) << r.err;
    expect_nothing_left(b, id);
}

TEST(BadInput, IdInUse) {
    Bundle b("bad-id");
    std::string id = b.id();
    ASSERT_EQ(b.runtime({"create", "--bundle", b.dir(), id}).status, 0);
    auto r = b.runtime({"create", "--bundle", b.dir(), id});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
    // The first container is untouched.
    EXPECT_EQ(json::parse(b.runtime({"state", id}).out)["status"], "created");
    EXPECT_EQ(b.runtime({"delete", id}).status, 0);
}

TEST(BadInput, UnknownSignal) {
    Bundle b("bad-signal");
    std::string id = b.id();
    ASSERT_EQ(b.runtime({"create", "--bundle", b.dir(), id}).status, 0);
    auto r = b.runtime({"kill", id, "SIGFOO"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("unknown signal \"SIGFOO\""), std::string::npos) << r.err;
    EXPECT_EQ(json::parse(b.runtime({"state", id}).out)["status"], "created");
}

TEST(BadInput, UnknownIdWording) {
    Bundle b("bad-unknown");
    for (const char* verb : {"state", "start", "kill", "delete"}) {
        auto r = b.runtime({verb, "no-such"});
        EXPECT_EQ(r.status, 1) << verb;
        EXPECT_NE(r.err.find("container \"no-such\" does not exist"), std::string::npos)
            << verb << ": " << r.err;
    }
}

TEST(BadInput, ExecutableNotFoundAtCreate) {
    Bundle b("bad-exe");
    b.args({"no-such-command"});
    std::string id = b.id();
    auto r = b.runtime({"create", "--bundle", b.dir(), id});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("exec: \"no-such-command\": executable file not found in $PATH"),
              std::string::npos)
        << r.err;
    expect_nothing_left(b, id);
}

TEST(BadInput, NotExecutableIsPermissionDenied) {
    Bundle b("bad-perm");
    std::ofstream(b.rootfs() + "/bin/script") << "#!/bin/sh\necho hi\n";
    b.args({"/bin/script"});
    std::string id = b.id();
    auto r = b.runtime({"create", "--bundle", b.dir(), id});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("permission denied"), std::string::npos) << r.err;
    expect_nothing_left(b, id);
}

TEST(BadInput, JsonLogGetsTheErrorLine) {
    Bundle b("bad-log");
    // containerd reuses one log file: it is appended to.
    std::ofstream(b.log_path()) << "{\"level\":\"info\",\"msg\":\"earlier\"}\n";
    auto r = b.runtime_json({"state", "no-such"});
    EXPECT_EQ(r.status, 1);
    std::ifstream f(b.log_path());
    std::string first;
    std::getline(f, first);
    EXPECT_EQ(first, "{\"level\":\"info\",\"msg\":\"earlier\"}");
    std::stringstream rest;
    rest << f.rdbuf();
    auto j = last_json_line(rest.str());
    EXPECT_EQ(j["level"], "error");
    EXPECT_EQ(j["msg"], "container \"no-such\" does not exist");
    EXPECT_TRUE(j.contains("time"));
}

TEST(BadInput, SystemdCgroupIsRefusedClearly) {
    Bundle b("bad-systemd");
    auto r = b.runtime({"--systemd-cgroup", "list"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("systemd"), std::string::npos) << r.err;
}

TEST(BadInput, UidMappingBeyondWhatTheKernelAllows) {
    Bundle b("rt2-bad-map");
    b.config["linux"]["namespaces"].push_back({{"type", "user"}});
    // Host ids 4294967000.. run past the last uid: the kernel refuses the map.
    b.config["linux"]["uidMappings"] = {
        {{"containerID", 0}, {"hostID", 4294967000u}, {"size", 65536}}};
    b.config["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
    b.save();
    std::string id = b.id();
    auto r = b.runtime({"create", "--bundle", b.dir(), id});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("linux.uidMappings"), std::string::npos) << r.err;
    expect_nothing_left(b, id);
}

TEST(BadInput, ProcessJsonWithoutArgs) {
    Bundle b("rt2-bad-procjson");
    b.args({"/bin/sleep", "100"});
    std::string id = b.id();
    ASSERT_EQ(b.runtime({"run", "--detach", "--bundle", b.dir(), id}).status, 0);
    std::ofstream(b.dir() + "/process.json") << R"({"cwd": "/", "env": ["PATH=/bin"]})";
    auto r = b.runtime({"exec", "--process", b.dir() + "/process.json", id});
    auto ps = b.runtime({"ps", "--format", "json", id});
    b.runtime({"delete", "--force", id});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("args"), std::string::npos) << r.err;
    EXPECT_EQ(json::parse(ps.out).size(), 1u) << "only the init runs: " << ps.out;
}

// nlohmann's raw "[json.exception.out_of_range.406] number overflow parsing '1e400'" named
// no field: the line names it, and nothing is made.
TEST(BadInput, NumberBeyondADoubleNamesItsField) {
    Bundle b("bad-1e400");
    b.config["linux"]["resources"] = {{"pids", {{"limit", 1}}}};
    std::string text = b.config.dump();
    auto at = text.find("\"limit\":1");
    ASSERT_NE(at, std::string::npos) << text;
    text.replace(at, 9, "\"limit\":1e400");
    std::ofstream(b.dir() + "/config.json") << text;
    std::string id = b.id();
    auto r = b.runtime({"create", "--bundle", b.dir(), id});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("linux.resources.pids.limit: number 1e400 is out of range"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("json.exception"), std::string::npos) << r.err;
    expect_nothing_left(b, id);
}

// "a\u0000b" reached execve as "a": the program ran with an argument cut short.
TEST(BadInput, NulInAnArgumentIsRefusedNotCut) {
    Bundle b("bad-nul");
    b.args({"/bin/echo", std::string("visible") + '\0' + "hidden"});
    std::string id = b.id();
    auto r = b.runtime({"run", "--bundle", b.dir(), id});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(R"(process.args[1]: "visible\x00hidden" contains a NUL byte)"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.out.find("visible"), std::string::npos) << "the program ran: " << r.out;
    expect_nothing_left(b, id);
}

// A 10,000-character hostname gave a 4 KB error line from sethostname.
TEST(BadInput, LongHostnameGivesOneShortLine) {
    Bundle b("bad-hostname");
    b.config["hostname"] = std::string(10000, 'h');
    b.save();
    std::string id = b.id();
    auto r = b.runtime({"create", "--bundle", b.dir(), id});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(lines(r.err), 1) << r.err;
    EXPECT_LT(r.err.size(), 600u) << r.err;
    EXPECT_NE(r.err.find("hostname: \"hhhh"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("is longer than the kernel's 64 bytes"), std::string::npos) << r.err;
    expect_nothing_left(b, id);
}
