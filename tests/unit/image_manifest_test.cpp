// Image-spec documents: indexes, manifests (OCI and Docker schema2), configs,
// platform matching.
#include <gtest/gtest.h>

#include "oci/image/types.h"
#include "sys/error.h"

namespace oi = husk::oci::image;

namespace {

const std::string kD1 = "sha256:" + std::string(64, '1');
const std::string kD2 = "sha256:" + std::string(64, '2');
const std::string kD3 = "sha256:" + std::string(64, '3');

std::string index_json() {
    return R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",
      "manifests":[
        {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":")" +
           kD1 + R"(","size":10,"platform":{"architecture":"arm","os":"linux","variant":"v7"}},
        {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":")" +
           kD2 + R"(","size":11,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}},
        {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":")" +
           kD3 + R"(","size":12,"platform":{"architecture":"amd64","os":"linux"}}]})";
}

TEST(ImageManifest, ParsesDockerManifestList) {
    EXPECT_EQ(oi::classify_manifest(oi::media::kDockerList, index_json()), oi::ManifestKind::index);
    oi::Index idx = oi::parse_index(index_json());
    ASSERT_EQ(idx.manifests.size(), 3u);
    EXPECT_EQ(idx.manifests[0].platform->variant, "v7");
    EXPECT_EQ(idx.manifests[2].size, 12);
}

TEST(ImageManifest, SelectsPlatform) {
    oi::Index idx = oi::parse_index(index_json());
    EXPECT_EQ(oi::select_platform(idx, oi::parse_platform("linux/amd64")).digest, kD3);
    EXPECT_EQ(oi::select_platform(idx, oi::parse_platform("linux/arm64")).digest, kD2);
    EXPECT_EQ(oi::select_platform(idx, oi::parse_platform("linux/aarch64/v8")).digest, kD2);
    EXPECT_EQ(oi::select_platform(idx, oi::parse_platform("linux/arm/v7")).digest, kD1);
    EXPECT_EQ(oi::select_platform(idx, oi::parse_platform("linux/x86_64")).digest, kD3);
    try {
        oi::select_platform(idx, oi::parse_platform("linux/arm/v6"));
        FAIL();
    } catch (const husk::Error& e) {
        EXPECT_STREQ(e.what(),
                     "no image for platform linux/arm/v6 (the index has: linux/arm/v7, "
                     "linux/arm64/v8, linux/amd64)");
    }
    EXPECT_THROW(oi::parse_platform("linux"), husk::Error);
    EXPECT_THROW(oi::parse_platform("linux/arm/v7/x"), husk::Error);
}

TEST(ImageManifest, PlatformMatching) {
    oi::Platform arm64{"linux", "arm64", "", {}, {}};
    oi::Platform arm64v8{"linux", "arm64", "v8", {}, {}};
    EXPECT_TRUE(oi::platform_matches(arm64, arm64v8));
    EXPECT_TRUE(oi::platform_matches(arm64v8, arm64));  // arm64's empty variant is v8
    oi::Platform win{"windows", "amd64", "", {}, {}};
    EXPECT_FALSE(oi::platform_matches(oi::parse_platform("linux/amd64"), win));
    EXPECT_EQ(oi::host_platform().os, "linux");
    EXPECT_FALSE(oi::host_platform().architecture.empty());
}

TEST(ImageManifest, ParsesOciManifest) {
    std::string m = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
      "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
                    kD1 + R"(","size":100},
      "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":")" +
                    kD2 +
                    R"(","size":5},
                {"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":")" +
                    kD3 +
                    R"(","size":6}],
      "annotations":{"a":"b"}})";
    EXPECT_EQ(oi::classify_manifest("", m), oi::ManifestKind::manifest);
    oi::Manifest man = oi::parse_manifest(m);
    EXPECT_EQ(man.config.digest, kD1);
    ASSERT_EQ(man.layers.size(), 2u);
    EXPECT_EQ(oi::layer_compression(man.layers[0].media_type), oi::Compression::zstd);
    EXPECT_EQ(oi::layer_compression(man.layers[1].media_type), oi::Compression::gzip);
    EXPECT_EQ(oi::layer_compression(oi::media::kOciLayer), oi::Compression::none);
    EXPECT_EQ(man.annotations.at("a"), "b");
    // round trip
    EXPECT_EQ(oi::parse_manifest(oi::dump_manifest(man)).layers[1].digest, kD3);
}

TEST(ImageManifest, ErrorsNameTheField) {
    auto err = [](const std::string& json) {
        try {
            oi::parse_manifest(json);
        } catch (const husk::Error& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    std::string cfg = R"("config":{"mediaType":"x","digest":")" + kD1 + R"(","size":1})";
    EXPECT_EQ(err(R"({"schemaVersion":2,"config":{"digest":"sha256:abc","size":1}})"),
              "manifest.config.digest: invalid digest \"sha256:abc\"");
    EXPECT_EQ(err(R"({"schemaVersion":2,)" + cfg +
                  R"(,"layers":[{"mediaType":"text/plain","digest":")" + kD2 + R"(","size":1}]})"),
              "manifest.layers[0].mediaType: unsupported layer type \"text/plain\"");
    EXPECT_EQ(err(R"({"schemaVersion":2,)" + cfg + R"(,"layers":[{"digest":")" + kD2 +
                  R"(","size":-1}]})"),
              "manifest.layers[0].size: expected a non-negative integer");
    EXPECT_EQ(err(R"({"schemaVersion":3})"), "manifest.schemaVersion: unsupported 3");
    EXPECT_NE(err("{not json").find("manifest: invalid JSON"), std::string::npos);
}

TEST(ImageManifest, RefusesSchema1) {
    std::string s1 = R"({"schemaVersion":1,"name":"x","tag":"y","fsLayers":[]})";
    try {
        oi::classify_manifest("application/vnd.docker.distribution.manifest.v1+prettyjws", s1);
        FAIL();
    } catch (const husk::Error& e) {
        EXPECT_NE(std::string(e.what()).find("schema1"), std::string::npos);
    }
    EXPECT_THROW(oi::classify_manifest("", s1), husk::Error);
    EXPECT_THROW(oi::classify_manifest("text/html", "{}"), husk::Error);
}

TEST(ImageManifest, ParsesImageConfig) {
    std::string c = R"({"created":"2023-11-14T22:13:20Z","architecture":"amd64","os":"linux",
      "config":{"User":"1000:1000","Env":["PATH=/bin"],"Entrypoint":["/init"],"Cmd":["sh"],
                "WorkingDir":"/w","Labels":{"l":"v"},"ExposedPorts":{"80/tcp":{}},
                "Volumes":{"/data":{}},"StopSignal":"SIGTERM"},
      "rootfs":{"type":"layers","diff_ids":[")" +
                    kD1 + R"("]},
      "history":[{"created_by":"x"}]})";
    oi::ImageConfig cfg = oi::parse_image_config(c);
    EXPECT_EQ(cfg.user, "1000:1000");
    EXPECT_EQ(cfg.entrypoint, std::vector<std::string>{"/init"});
    EXPECT_EQ(cfg.exposed_ports, std::vector<std::string>{"80/tcp"});
    EXPECT_EQ(cfg.volumes, std::vector<std::string>{"/data"});
    EXPECT_EQ(cfg.diff_ids, std::vector<std::string>{kD1});
    EXPECT_THROW(oi::parse_image_config(R"({"rootfs":{"type":"other"}})"), husk::Error);
    EXPECT_THROW(
        oi::parse_image_config(R"({"config":{"Env":"PATH=x"},"rootfs":{"type":"layers"}})"),
        husk::Error);
}

}  // namespace
