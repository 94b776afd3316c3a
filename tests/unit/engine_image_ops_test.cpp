// husk import/commit -c changes applied to an image config, and husk tag/history on a
// store made in a temporary directory.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/image_ops.h"
#include "error_of.h"
#include "image/digest.h"
#include "oci/image/types.h"
#include "sys/error.h"
#include "sys/fileutil.h"

using namespace husk;
using namespace husk::engine;
using json = nlohmann::json;

namespace {

json changed(const std::vector<std::string>& changes, json cfg = json::object()) {
    apply_changes(cfg, changes);
    return cfg;
}
}  // namespace

TEST(ImportChanges, CmdAndEntrypointTakeTheJsonAndTheShellForm) {
    EXPECT_EQ(changed({R"(CMD ["cat", "/f"])"})["Cmd"], json::array({"cat", "/f"}));
    EXPECT_EQ(changed({"CMD echo hi there"})["Cmd"],
              json::array({"/bin/sh", "-c", "echo hi there"}));
    EXPECT_EQ(changed({R"(entrypoint ["/init"])"})["Entrypoint"], json::array({"/init"}));
    // a malformed JSON form is the shell form, as docker takes it
    EXPECT_EQ(changed({"CMD [oops"})["Cmd"], json::array({"/bin/sh", "-c", "[oops"}));
}

TEST(ImportChanges, EnvReplacesTheSameKeyAndKeepsOthers) {
    json cfg = {{"Env", {"PATH=/bin", "A=1"}}};
    auto out = changed({"ENV A=2 B=\"two words\"", "ENV C 3 4"}, cfg);
    EXPECT_EQ(out["Env"], json::array({"PATH=/bin", "A=2", "B=two words", "C=3 4"}));
}

TEST(ImportChanges, LabelsPortsVolumesUserWorkdirStopsignal) {
    auto out = changed({"LABEL a=1 b=\"x y\"", "EXPOSE 80 53/udp", "VOLUME /data /logs",
                        R"(VOLUME ["/with space"])", "USER 1000:1000", "WORKDIR /srv",
                        "STOPSIGNAL SIGINT", "ONBUILD RUN make"});
    EXPECT_EQ(out["Labels"], (json{{"a", "1"}, {"b", "x y"}}));
    EXPECT_EQ(out["ExposedPorts"], (json{{"80/tcp", json::object()}, {"53/udp", json::object()}}));
    EXPECT_EQ(out["Volumes"], (json{{"/data", json::object()},
                                    {"/logs", json::object()},
                                    {"/with space", json::object()}}));
    EXPECT_EQ(out["User"], "1000:1000");
    EXPECT_EQ(out["WorkingDir"], "/srv");
    EXPECT_EQ(out["StopSignal"], "SIGINT");
    EXPECT_EQ(out["OnBuild"], json::array({"RUN make"}));
}

TEST(ImportChanges, BadChangesNameTheChange) {
    EXPECT_EQ(error_of([] { changed({"FROB x"}); }), "FROB is not a valid change command");
    EXPECT_EQ(error_of([] { changed({"RUN make"}); }), "RUN is not a valid change command");
    EXPECT_EQ(error_of([] { changed({"EXPOSE http"}); }),
              "change \"EXPOSE http\": invalid port \"http\"");
    EXPECT_EQ(error_of([] { changed({"WORKDIR rel"}); }),
              "change \"WORKDIR rel\": WORKDIR must be an absolute path");
    EXPECT_EQ(error_of([] { changed({"CMD"}); }), "change \"CMD\": CMD needs an argument");
    EXPECT_EQ(error_of([] { changed({"ENV A=\"open"}); }),
              "change \"ENV A=\"open\": unterminated quote");
}

namespace {
// A store in a temporary directory holding one image with `history` and two layers.
struct TempStore {
    std::string dir;
    std::unique_ptr<image::Store> store;
    TempStore() {
        char tmpl[] = "/tmp/husk-imageops-XXXXXX";
        dir = ::mkdtemp(tmpl);
        store = std::make_unique<image::Store>(dir);
    }
    ~TempStore() { sys::remove_all(dir); }

    std::string add(const std::string& name, const json& history) {
        namespace oi = oci::image;
        std::string l1 = store->write_blob("layer one");
        std::string l2 = store->write_blob("layer two, longer");
        json cfg = {{"architecture", "amd64"},
                    {"os", "linux"},
                    {"created", "2024-01-02T03:04:05Z"},
                    {"rootfs", {{"type", "layers"}, {"diff_ids", {l1, l2}}}},
                    {"history", history}};
        std::string config = cfg.dump();
        std::string cd = store->write_blob(config);
        oi::Manifest m;
        m.media_type = std::string(oi::media::kOciManifest);
        m.config = {std::string(oi::media::kOciConfig),
                    cd,
                    static_cast<int64_t>(config.size()),
                    {},
                    {},
                    {}};
        m.layers.push_back({std::string(oi::media::kOciLayer), l1, 9, {}, {}, {}});
        m.layers.push_back({std::string(oi::media::kOciLayer), l2, 17, {}, {}, {}});
        std::string body = oi::dump_manifest(m);
        std::string md = store->write_blob(body);
        store->add_records({{name,
                             {std::string(oi::media::kOciManifest),
                              md,
                              static_cast<int64_t>(body.size()),
                              {},
                              {},
                              {}},
                             md}});
        return cd;
    }
};
}  // namespace

TEST(ImageHistory, RowsNewestFirstEmptyLayersHaveNoSize) {
    TempStore t;
    json h = json::array({{{"created_by", "ADD rootfs"}, {"created", "2024-01-01T00:00:00Z"}},
                          {{"created_by", "ENV A=1"}, {"empty_layer", true}},
                          {{"created_by", "RUN make"}, {"comment", "buildkit"}}});
    std::string id = t.add("docker.io/library/hist:latest", h);
    auto rows = image_history(*t.store, "hist");
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].id, id);
    EXPECT_EQ(rows[0].created_by, "RUN make");
    EXPECT_EQ(rows[0].comment, "buildkit");
    EXPECT_EQ(rows[0].size, 17u);  // no snapshot: the blob's size
    EXPECT_EQ(rows[1].id, "<missing>");
    EXPECT_EQ(rows[1].size, 0u);
    EXPECT_EQ(rows[2].created_by, "ADD rootfs");
    EXPECT_EQ(rows[2].size, 9u);
}

TEST(ImageHistory, AnImageWithoutHistoryHasOneRowPerLayer) {
    TempStore t;
    t.add("docker.io/library/nohist:latest", json::array());
    auto rows = image_history(*t.store, "nohist");
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].size, 17u);
    EXPECT_EQ(rows[0].created, "2024-01-02T03:04:05Z");
}

TEST(ImageTag, ANewNameAndTheUnnamedImageAMovedTagLeaves) {
    TempStore t;
    t.add("docker.io/library/a:latest", json::array());
    tag_image(*t.store, "a", "b:1");
    EXPECT_EQ(t.store->resolve("b:1").manifest_digest, t.store->resolve("a").manifest_digest);
    // A name taken by another image moves; that image, left without a name, stays.
    t.add("docker.io/library/c:latest", json::array({{{"created_by", "other"}}}));
    std::string old = t.store->resolve("c").manifest_digest;
    tag_image(*t.store, "a", "c");
    EXPECT_EQ(t.store->resolve("c").manifest_digest, t.store->resolve("a").manifest_digest);
    EXPECT_EQ(t.store->resolve(old).manifest_digest, old);
    size_t unnamed = 0;
    for (auto& r : t.store->records()) unnamed += r.name.empty() && r.manifest.digest == old;
    EXPECT_EQ(unnamed, 1u);
    EXPECT_EQ(error_of([&] { tag_image(*t.store, "a", "b@sha256:" + std::string(64, '0')); }),
              "refusing to create a tag with a digest reference: \"b@sha256:" +
                  std::string(64, '0') + "\"");
    EXPECT_NE(error_of([&] { tag_image(*t.store, "nope", "c"); }), "");
    EXPECT_NE(error_of([&] { tag_image(*t.store, "a", "C"); }).find("lowercase"),
              std::string::npos);
}
