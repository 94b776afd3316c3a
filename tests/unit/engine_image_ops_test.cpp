// husk tag/history on a store made in a temporary directory (the -c changes of import
// and commit: build_dockerfile_test.cpp).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/image_ops.h"
#include "error_of.h"
#include "image/digest.h"
#include "image/platforms.h"
#include "oci/image/types.h"
#include "sys/error.h"
#include "sys/fileutil.h"

using namespace husk;
using namespace husk::engine;
using json = nlohmann::json;

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

TEST(ImagePlatform, WithoutAPullTheStoreAnswersAlone) {
    TempStore t;
    t.add("a:1", json::array());  // an amd64 image
    oci::image::Platform other{"linux", "s390x", "", {}, {}};
    if (oci::image::host_platform().architecture == other.architecture)
        other.architecture = "ppc64le";
    // no pull function (a caller that fetches nothing): one error, not std::bad_function_call
    EXPECT_EQ(error_of([&] { image::image_for_platform(*t.store, "missing:1", other, {}); }),
              "image \"missing:1\": no " + other.str() + " image in the store");
    EXPECT_EQ(error_of([&] { image::image_for_platform(*t.store, "a:1", other, {}); }),
              "image \"a:1\": no " + other.str() + " image in the store");
}
