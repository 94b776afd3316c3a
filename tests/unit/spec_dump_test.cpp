// dump_spec is the inverse of parse_spec; default_spec is a valid runc-like config;
// state JSON is what hooks and engines read.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "oci/spec.h"
#include "oci/state.h"
#include "oci_test_configs.h"

namespace husk::oci {
namespace {

using nlohmann::json;

TEST(SpecDump, FullConfigRoundTripsExactly) {
    json in = json::parse(testdata::kFullConfig);
    json out = json::parse(dump_spec(parse_spec(testdata::kFullConfig)));
    EXPECT_EQ(out, in) << json::diff(in, out).dump(2);
}

TEST(SpecDump, PodmanConfigRoundTrips) {
    Spec s = parse_spec(testdata::kPodmanConfig);
    std::string once = dump_spec(s);
    EXPECT_EQ(dump_spec(parse_spec(once)), once);
}

TEST(SpecDump, KeysInRuntimeSpecOrderAndIndented) {
    std::string text = dump_spec(parse_spec(R"({"linux": {}, "root": {"path": "r"},
        "process": {"args": ["sh"]}, "ociVersion": "1.0.0"})"));
    EXPECT_EQ(text, R"({
  "ociVersion": "1.0.0",
  "process": {
    "user": {
      "uid": 0,
      "gid": 0
    },
    "args": [
      "sh"
    ],
    "cwd": "/"
  },
  "root": {
    "path": "r"
  },
  "linux": {}
}
)");
}

TEST(SpecDump, EmptyStringHostnameIsKept) {
    Spec s = parse_spec(R"({"ociVersion": "1.0.0", "hostname": ""})");
    ASSERT_TRUE(s.hostname);
    EXPECT_EQ(parse_spec(dump_spec(s)).hostname, "");
}

TEST(DefaultSpec, IsRuncsDefault) {
    Spec s = default_spec(false);
    EXPECT_EQ(s.oci_version, "1.3.0");
    ASSERT_TRUE(s.process);
    EXPECT_TRUE(s.process->terminal);
    EXPECT_EQ(s.process->args, (std::vector<std::string>{"sh"}));
    EXPECT_EQ(s.process->env.size(), 2u);
    EXPECT_EQ(s.process->cwd, "/");
    EXPECT_EQ(s.process->capabilities->bounding,
              (std::vector<std::string>{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}));
    EXPECT_TRUE(s.process->capabilities->ambient.empty());
    EXPECT_TRUE(s.process->capabilities->inheritable.empty());
    ASSERT_EQ(s.process->rlimits.size(), 1u);
    EXPECT_EQ(s.process->rlimits[0].soft, 1024u);
    EXPECT_TRUE(s.process->no_new_privileges);
    EXPECT_EQ(s.root->path, "rootfs");
    EXPECT_TRUE(s.root->readonly);
    EXPECT_EQ(s.hostname, "husk");
    ASSERT_EQ(s.mounts.size(), 7u);
    EXPECT_EQ(s.mounts[6].destination, "/sys/fs/cgroup");
    const Linux& l = *s.linux_;
    for (const char* ns : {"pid", "network", "ipc", "uts", "mount", "cgroup"})
        EXPECT_NE(l.find_namespace(ns), nullptr) << ns;
    EXPECT_EQ(l.find_namespace("user"), nullptr);
    EXPECT_TRUE(l.uid_mappings.empty());
    EXPECT_FALSE(l.masked_paths.empty());
    EXPECT_FALSE(l.readonly_paths.empty());
    ASSERT_TRUE(l.resources);
    EXPECT_EQ(l.resources->devices.size(), 1u);
}

TEST(DefaultSpec, RootlessMapsTheCallerAndDropsNetwork) {
    Spec s = default_spec(true);
    const Linux& l = *s.linux_;
    EXPECT_NE(l.find_namespace("user"), nullptr);
    EXPECT_EQ(l.find_namespace("network"), nullptr);
    ASSERT_EQ(l.uid_mappings.size(), 1u);
    EXPECT_EQ(l.uid_mappings[0].container_id, 0u);
    EXPECT_EQ(l.uid_mappings[0].host_id, static_cast<uint32_t>(geteuid()));
    EXPECT_EQ(l.uid_mappings[0].size, 1u);
    EXPECT_EQ(l.gid_mappings[0].host_id, static_cast<uint32_t>(getegid()));
    EXPECT_FALSE(l.resources);
    for (const auto& m : s.mounts) {
        for (const auto& o : m.options) EXPECT_NE(o.rfind("gid=", 0), 0u) << m.destination;
        if (m.destination == "/sys") {
            EXPECT_EQ(m.type, "none");
            EXPECT_EQ(m.source, "/sys");
            EXPECT_EQ(m.options[0], "rbind");
        }
    }
}

TEST(DefaultSpec, BothVariantsParseBack) {
    for (bool rootless : {false, true}) {
        std::string text = dump_spec(default_spec(rootless));
        Spec back = parse_spec(text);
        EXPECT_EQ(dump_spec(back), text);
    }
}

TEST(StateJson, HookStateIsCompact) {
    State s{"1.3.0", "web", "created", 42, "/b", {{"a", "b"}}, "/b/rootfs", "t", "root"};
    EXPECT_EQ(
        dump_hook_state(s),
        R"({"ociVersion":"1.3.0","id":"web","status":"created","pid":42,"bundle":"/b","annotations":{"a":"b"}})");
    s.pid = 0;
    s.annotations.clear();
    s.status = "stopped";
    EXPECT_EQ(dump_hook_state(s),
              R"({"ociVersion":"1.3.0","id":"web","status":"stopped","bundle":"/b"})");
}

TEST(StateJson, StateIsIndentedWithRuncExtras) {
    State s{"1.3.0", "web", "running", 7, "/b", {}, "/b/rootfs", "2024-01-02T03:04:05.123456789Z",
            ""};
    EXPECT_EQ(dump_state(s), R"({
  "ociVersion": "1.3.0",
  "id": "web",
  "pid": 7,
  "status": "running",
  "bundle": "/b",
  "rootfs": "/b/rootfs",
  "created": "2024-01-02T03:04:05.123456789Z",
  "owner": ""
}
)");
    s.annotations = {{"k", "v"}};
    json j = json::parse(dump_state(s));
    EXPECT_EQ(j["annotations"]["k"], "v");
}

}  // namespace
}  // namespace husk::oci
