// The container database keeps its words on disk while the engine holds typed values:
// records written before (status/network words, -p strings, id maps as arrays, the older
// userns_base fields) load as the types, and save writes the same words back.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <nlohmann/json.hpp>

#include "engine/record.h"
#include "sys/fileutil.h"

using namespace husk;
using namespace husk::engine;

namespace {

class RecordOnDisk : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/husk-record-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        root_ = tmpl;
    }
    void TearDown() override { sys::remove_all(root_); }

    ContainerRecord load(const std::string& id, const std::string& json) {
        Containers db(root_);
        sys::mkdir_all(db.dir(id), 0711);
        sys::write_file(db.dir(id) + "/container.json", json);
        auto r = db.find(id);
        EXPECT_TRUE(r.has_value());
        return r.value_or(ContainerRecord{});
    }

    std::string root_;
};

}  // namespace

TEST_F(RecordOnDisk, WordsLoadAsTypesAndSaveBackTheSame) {
    auto r = load("a1", R"({"id": "a1", "name": "web", "status": "running",
                            "network": "bridge", "publish": ["127.0.0.1:8080:80/tcp", "53/udp"],
                            "uid_maps": [[0, 100000, 65536]], "gid_maps": [[0, 200000, 65536]]})");
    EXPECT_EQ(r.status, ContainerStatus::running);
    EXPECT_EQ(r.network, NetworkMode::bridge);
    ASSERT_EQ(r.publish.size(), 2u);
    EXPECT_EQ(r.publish[0].host_ip, "127.0.0.1");
    EXPECT_EQ(r.publish[0].host_port, 8080);
    EXPECT_EQ(r.publish[0].container_port, 80);
    EXPECT_EQ(r.publish[1].protocol, "udp");
    EXPECT_EQ(r.publish[1].host_port, 0);
    ASSERT_EQ(r.uid_maps.size(), 1u);
    EXPECT_EQ(r.uid_maps[0].host_id, 100000u);
    EXPECT_EQ(r.gid_maps[0].host_id, 200000u);

    Containers(root_).save(r);
    auto j = nlohmann::json::parse(sys::read_file(Containers(root_).dir("a1") + "/container.json"));
    EXPECT_EQ(j["status"], "running");
    EXPECT_EQ(j["network"], "bridge");
    EXPECT_EQ(j["publish"], (std::vector<std::string>{"127.0.0.1:8080:80/tcp", "53/udp"}));
    EXPECT_EQ(j["uid_maps"], nlohmann::json::parse("[[0, 100000, 65536]]"));
}

TEST_F(RecordOnDisk, RecordsOfAnOlderHuskStillLoad) {
    // before bridge networking (no "network": none) and before id maps (userns_base)
    auto r = load("b2", R"({"id": "b2", "name": "old", "status": "exited", "exit_code": 3,
                            "userns_base": 300000, "userns_size": 65536})");
    EXPECT_EQ(r.status, ContainerStatus::exited);
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(r.network, NetworkMode::none);
    EXPECT_TRUE(r.publish.empty());
    ASSERT_EQ(r.uid_maps.size(), 1u);
    EXPECT_EQ(r.uid_maps[0].container_id, 0u);
    EXPECT_EQ(r.uid_maps[0].host_id, 300000u);
    EXPECT_EQ(r.uid_maps[0].size, 65536u);
    EXPECT_EQ(r.gid_maps[0].host_id, 300000u);
    // paused is read from the runtime, shown in the status's place
    r.status = ContainerStatus::running;
    EXPECT_EQ(r.state(), "running");
    r.paused = true;
    EXPECT_EQ(r.state(), "paused");
}
