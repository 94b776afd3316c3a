// WWW-Authenticate challenges and credential files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "image/auth.h"
#include "image/digest.h"
#include "sys/error.h"
#include "sys/fileutil.h"

using husk::image::parse_www_authenticate;

TEST(ImageAuth, BearerChallenge) {
    auto c = parse_www_authenticate(
        R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull")");
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].scheme, "bearer");
    EXPECT_EQ(c[0].params.at("realm"), "https://auth.docker.io/token");
    EXPECT_EQ(c[0].params.at("service"), "registry.docker.io");
    EXPECT_EQ(c[0].params.at("scope"), "repository:library/alpine:pull");
}

TEST(ImageAuth, BasicAndSeveralChallenges) {
    auto c = parse_www_authenticate(R"(Basic realm="Registry Realm")");
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].scheme, "basic");
    EXPECT_EQ(c[0].params.at("realm"), "Registry Realm");

    c = parse_www_authenticate(
        R"(Basic realm="a, b", BEARER Realm=https://x/token , service="s\"q", error=invalid_token)");
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c[0].params.at("realm"), "a, b");
    EXPECT_EQ(c[1].scheme, "bearer");
    EXPECT_EQ(c[1].params.at("realm"), "https://x/token");
    EXPECT_EQ(c[1].params.at("service"), "s\"q");
    EXPECT_EQ(c[1].params.at("error"), "invalid_token");
}

TEST(ImageAuth, Garbage) {
    EXPECT_THROW(parse_www_authenticate(R"(Bearer realm="unterminated)"), husk::Error);
    EXPECT_THROW(parse_www_authenticate("=x"), husk::Error);
    EXPECT_TRUE(parse_www_authenticate("").empty());
}

TEST(ImageAuth, Base64) {
    EXPECT_EQ(husk::image::base64_encode("user:pass"), "dXNlcjpwYXNz");
    EXPECT_EQ(husk::image::base64_decode("dXNlcjpwYXNz"), "user:pass");
    EXPECT_EQ(husk::image::base64_decode(husk::image::base64_encode("a")), "a");
    EXPECT_EQ(husk::image::base64_decode(husk::image::base64_encode("ab")), "ab");
}

TEST(ImageAuth, AuthFileStoresFindsAndErases) {
    char tmpl[] = "/tmp/images-auth-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    std::string dir = tmpl;
    husk::image::AuthFile f(dir + "/auth.json");
    EXPECT_FALSE(f.find("r.example:5000"));
    f.store("r.example:5000", {"u", "p:w", {}});
    f.store("docker.io", {"hub", "secret", {}});
    auto c = f.find("r.example:5000");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->username, "u");
    EXPECT_EQ(c->password, "p:w");
    ASSERT_TRUE(f.find("docker.io"));
    EXPECT_EQ(f.find("docker.io")->username, "hub");
    EXPECT_NE(husk::sys::read_file(dir + "/auth.json").find("https://index.docker.io/v1/"),
              std::string::npos);
    EXPECT_TRUE(f.erase("r.example:5000"));
    EXPECT_FALSE(f.erase("r.example:5000"));
    EXPECT_FALSE(f.find("r.example:5000"));
    husk::sys::remove_all(dir);
}

TEST(ImageAuth, ChainIds) {
    std::string a = "sha256:" + std::string(64, 'a'), b = "sha256:" + std::string(64, 'b');
    auto c = husk::image::chain_ids({a, b});
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c[0], a);
    EXPECT_EQ(c[1], husk::image::sha256_digest(a + " " + b));
    EXPECT_EQ(husk::image::sha256_digest(""),
              "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
