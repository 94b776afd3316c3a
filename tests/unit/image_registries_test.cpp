// registries.json: insecure patterns and per-registry mirrors.
#include <gtest/gtest.h>

#include <string>

#include "image/registries_config.h"
#include "sys/error.h"

using husk::image::RegistriesConfig;

namespace {

std::string error_of(const std::string& text) {
    try {
        RegistriesConfig::parse(text);
    } catch (const husk::Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(ImageRegistries, MirrorsInOrderWithPathPrefix) {
    auto c = RegistriesConfig::parse(R"({"insecure": ["127.0.0.1:*"],
        "mirrors": {"docker.io": ["mirror.lan:5000", "cache.lan/hub/", "[::1]:5000"]}})");
    ASSERT_EQ(c.mirrors_of("docker.io").size(), 3u);
    const auto& m = c.mirrors_of("docker.io");
    EXPECT_EQ(m[0].host, "mirror.lan:5000");
    EXPECT_EQ(m[0].prefix, "");
    EXPECT_EQ(m[0].repository("library/alpine"), "library/alpine");
    EXPECT_EQ(m[1].host, "cache.lan");
    EXPECT_EQ(m[1].repository("library/alpine"), "hub/library/alpine");
    EXPECT_EQ(m[1].str(), "cache.lan/hub");
    EXPECT_EQ(m[2].host, "[::1]:5000");
    EXPECT_TRUE(c.mirrors_of("quay.io").empty());
    EXPECT_TRUE(c.is_insecure("127.0.0.1:5000"));
    EXPECT_FALSE(c.is_insecure("quay.io"));
}

TEST(ImageRegistries, LoopbackRegistriesAreInsecureUnlessVerificationWasAskedFor) {
    RegistriesConfig c;
    for (const char* r :
         {"127.0.0.1:5000", "127.1.2.3", "localhost:5000", "localhost", "[::1]:5000"})
        EXPECT_TRUE(c.is_insecure(r)) << r;
    for (const char* r : {"128.0.0.1:5000", "127.0.0.1.example.com:5000", "localhost.example.com",
                          "[::2]:5000", "[::1", "quay.io"})
        EXPECT_FALSE(c.is_insecure(r)) << r;
    c.loopback_insecure = false;
    EXPECT_FALSE(c.is_insecure("127.0.0.1:5000"));
    EXPECT_FALSE(c.is_insecure("[::1]:5000"));
}

TEST(ImageRegistries, OldFilesWithInsecureOnlyStillRead) {
    auto c = RegistriesConfig::parse(R"({"insecure": ["localhost:*"]})");
    EXPECT_TRUE(c.is_insecure("localhost:5000"));
    EXPECT_TRUE(c.mirrors.empty());
}

TEST(ImageRegistries, BadInputNamesTheField) {
    EXPECT_NE(
        error_of(R"({"mirrors": {"docker.io": ["https://m.lan"]}})")
            .find(
                R"(mirrors["docker.io"][0]: invalid mirror "https://m.lan": give host[:port][/path] without a scheme)"),
        std::string::npos);
    EXPECT_NE(error_of(R"({"mirrors": ["m.lan"]})").find("mirrors: expected an object"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"mirrors": {"docker.io": "m.lan"}})")
                  .find(R"(mirrors["docker.io"]: expected an array of strings)"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"mirrors": {"docker.io": [5]}})")
                  .find(R"(mirrors["docker.io"][0]: expected a string)"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"mirrors": {"docker.io": ["m.lan//x"]}})").find("malformed path"),
              std::string::npos);
    EXPECT_NE(
        error_of(R"({"mirrors": {"docker.io": ["bad host"]}})").find("expected host[:port][/path]"),
        std::string::npos);
    EXPECT_NE(error_of(R"({"insecure": "x"})").find("insecure: expected an array"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"mirror": {}})").find(R"(unknown key "mirror")"), std::string::npos);
    EXPECT_NE(error_of("[1,").find("parse error"), std::string::npos);
}
