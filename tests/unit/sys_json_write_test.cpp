// sys/json_write.h writes what nlohmann's dump() writes for the same values: state.json
// and the cgroup record are written by hand and read back with nlohmann.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/cgroup/manager.h"
#include "runtime/state.h"
#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/json_write.h"

namespace {

using nlohmann::json;

std::string by_hand(std::string_view s) {
    std::string out;
    husk::sys::append_json_string(out, s, "value");
    return out;
}

TEST(JsonWrite, StringsAsNlohmannDumpsThem) {
    const std::string cases[] = {
        "",
        "plain /run/husk-runtime/c1",
        "quote \" backslash \\ slash /",
        std::string("controls \b\f\n\r\t \x01\x1f \x7f and a NUL ") + '\0' + " inside",
        "UTF-8: \xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3",
    };
    for (const auto& s : cases) EXPECT_EQ(by_hand(s), json(s).dump()) << s;
}

TEST(JsonWrite, InvalidUtf8IsAnErrorNamingTheValue) {
    for (std::string bad : {"\xff", "a\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"}) {
        try {
            by_hand(bad);
            ADD_FAILURE() << "accepted invalid UTF-8";
        } catch (const husk::Error& e) {
            EXPECT_NE(std::string(e.what()).find("value \""), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("invalid UTF-8"), std::string::npos) << e.what();
        }
    }
}

TEST(JsonWrite, StateSavedIsNlohmannsDumpAndParsesBack) {
    char tmpl[] = "/tmp/husk-json-write-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string root = tmpl;
    husk::runtime::StateDir dir(root, "c1");
    dir.create_new();
    husk::runtime::Record r;
    r.id = "c1";
    r.bundle = "/b \"quoted\"\n";
    r.rootfs = "/b/rootfs";
    r.created = "2026-12-07T08:00:00.000000001Z";
    r.owner = "root";
    r.pid = 4242;
    r.start_time = 18446744073709551615ULL;
    r.cgroup = R"({"v2":{"dir":"/sys/fs/cgroup/c1","mountpoint":"/sys/fs/cgroup"}})";
    r.annotations = {{"b", "2"}, {"a", "\xc3\xa9"}};
    r.new_keyring = true;
    r.use_pid_ns = false;
    r.config = R"({"hooks":{}})";
    r.creating = true;
    const std::string text = dir.save(r);
    json expected{{"id", r.id},
                  {"bundle", r.bundle},
                  {"rootfs", r.rootfs},
                  {"created", r.created},
                  {"owner", r.owner},
                  {"pid", r.pid},
                  {"start_time", r.start_time},
                  {"cgroup", r.cgroup},
                  {"use_pid_ns", r.use_pid_ns},
                  {"new_keyring", r.new_keyring},
                  {"annotations", r.annotations},
                  {"config", r.config},
                  {"creating", r.creating}};
    EXPECT_EQ(text, expected.dump());
    husk::runtime::Record back = dir.load();
    EXPECT_EQ(back.bundle, r.bundle);
    EXPECT_EQ(back.start_time, r.start_time);
    EXPECT_EQ(back.annotations, r.annotations);
    EXPECT_EQ(back.creating, r.creating);
    husk::sys::remove_all(root);
}

TEST(JsonWrite, CgroupRecordSavedAsLoaded) {
    json v1 = json::object();
    v1["v1"] = json::array();
    for (const char* c : {"cpu", "name=systemd"}) {
        json e = json::object();
        e["controllers"] = std::vector<std::string>{c, "x"};
        e["dir"] = std::string("/sys/fs/cgroup/") + c + "/c1";
        e["mountpoint"] = std::string("/sys/fs/cgroup/") + c;
        v1["v1"].push_back(e);
    }
    v1["v2"] = json{{"dir", "/sys/fs/cgroup/unified/c1"}, {"mountpoint", "/sys/fs/cgroup/unified"}};
    const std::string saved = v1.dump();
    EXPECT_EQ(husk::runtime::cgroup::Manager::load(saved)->save(), saved);
    const std::string v2_only = json{{"v2", v1["v2"]}}.dump();
    EXPECT_EQ(husk::runtime::cgroup::Manager::load(v2_only)->save(), v2_only);
}

}  // namespace
