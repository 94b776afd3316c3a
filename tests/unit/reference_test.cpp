// Image references, with docker's own reference/normalize test cases as a guide.
#include "oci/image/reference.h"

#include <gtest/gtest.h>

#include "sys/error.h"

using husk::oci::image::parse_reference;
using husk::oci::image::Reference;

namespace {

const std::string kDigest =
    "sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

struct Case {
    std::string input, domain, path, tag, digest;
};

class ReferenceTest : public ::testing::TestWithParam<Case> {};

TEST_P(ReferenceTest, Normalises) {
    const Case& c = GetParam();
    Reference r = parse_reference(c.input);
    EXPECT_EQ(r.domain, c.domain) << c.input;
    EXPECT_EQ(r.path, c.path) << c.input;
    EXPECT_EQ(r.tag, c.tag) << c.input;
    EXPECT_EQ(r.digest, c.digest) << c.input;
}

INSTANTIATE_TEST_SUITE_P(
    Docker, ReferenceTest,
    ::testing::Values(
        Case{"alpine", "docker.io", "library/alpine", "latest", ""},
        Case{"test_com", "docker.io", "library/test_com", "latest", ""},
        Case{"test.com:tag", "docker.io", "library/test.com", "tag", ""},
        Case{"test.com:5000", "docker.io", "library/test.com", "5000", ""},
        Case{"test.com/repo:tag", "test.com", "repo", "tag", ""},
        Case{"test:5000/repo", "test:5000", "repo", "latest", ""},
        Case{"test:5000/repo:tag", "test:5000", "repo", "tag", ""},
        Case{"test:5000/repo@" + kDigest, "test:5000", "repo", "", kDigest},
        Case{"test:5000/repo:tag@" + kDigest, "test:5000", "repo", "tag", kDigest},
        Case{"lowercase:Uppercase", "docker.io", "library/lowercase", "Uppercase", ""},
        Case{"sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", "bar/baz/quux", "latest", ""},
        Case{"sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com", "bar/baz/quux",
             "some-long-tag", ""},
        Case{"b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io",
             "test.example.com/my-app", "test.example.com", ""},
        Case{"xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com", "myimage", "xn--n3h.com", ""},
        Case{"foo_bar.com:8080", "docker.io", "library/foo_bar.com", "8080", ""},
        Case{"foo/foo_bar.com:8080", "docker.io", "foo/foo_bar.com", "8080", ""},
        Case{"docker.io/library/ubuntu", "docker.io", "library/ubuntu", "latest", ""},
        Case{"index.docker.io/library/ubuntu:18.04", "docker.io", "library/ubuntu", "18.04", ""},
        Case{"docker.io/ubuntu", "docker.io", "library/ubuntu", "latest", ""},
        Case{"user/app", "docker.io", "user/app", "latest", ""},
        Case{"localhost/app", "localhost", "app", "latest", ""},
        Case{"localhost:5000/ns/app:1", "localhost:5000", "ns/app", "1", ""},
        Case{"127.0.0.1:5000/husk/busybox", "127.0.0.1:5000", "husk/busybox", "latest", ""},
        Case{"[fc00::1]:5000/repo", "[fc00::1]:5000", "repo", "latest", ""},
        Case{"Foo/bar", "Foo", "bar", "latest", ""},
        Case{"a/b__c/d-e---f.g", "docker.io", "a/b__c/d-e---f.g", "latest", ""}));

class BadReferenceTest : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(BadReferenceTest, OneClearError) {
    auto [input, why] = GetParam();
    try {
        parse_reference(input);
        FAIL() << input << " was accepted";
    } catch (const husk::Error& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("invalid reference \"" + input + "\""), std::string::npos) << msg;
        EXPECT_NE(msg.find(why), std::string::npos) << msg;
    }
}

INSTANTIATE_TEST_SUITE_P(
    Docker, BadReferenceTest,
    ::testing::Values(
        std::pair<std::string, std::string>{"", "empty"},
        std::pair<std::string, std::string>{":justtag", "missing repository name"},
        std::pair<std::string, std::string>{"@" + kDigest, "missing repository name"},
        std::pair<std::string, std::string>{"repo@sha256:ffffffffffffffffffffffffffffffffff",
                                            "invalid digest"},
        std::pair<std::string, std::string>{"validname@invaliddigest:ffff", "invalid digest"},
        std::pair<std::string, std::string>{"Uppercase:tag", "must be lowercase"},
        std::pair<std::string, std::string>{"docker.io/Upper/x", "must be lowercase"},
        std::pair<std::string, std::string>{"aa/asdf$$^/aa", "invalid repository path component"},
        std::pair<std::string, std::string>{"a/-x", "invalid repository path component"},
        std::pair<std::string, std::string>{"a/x_-y", "invalid repository path component"},
        std::pair<std::string, std::string>{"a/x..y", "invalid repository path component"},
        std::pair<std::string, std::string>{"repo:-tag", "invalid tag"},
        std::pair<std::string, std::string>{"repo:" + std::string(129, 'a'), "invalid tag"},
        std::pair<std::string, std::string>{"-host.com/repo", "invalid registry host"},
        std::pair<std::string, std::string>{
            "a" +
                std::string(130, '/').replace(0, 130,
                                              std::string(65, 'a') + "/" + std::string(64, 'b')) +
                "/" + std::string(130, 'c'),
            "longer than 255"},
        std::pair<std::string, std::string>{std::string(64, 'a'), "64-byte hexadecimal"}));

TEST(Reference, StringForms) {
    Reference r = parse_reference("alpine");
    EXPECT_EQ(r.str(), "docker.io/library/alpine:latest");
    EXPECT_EQ(r.familiar_name(), "alpine:latest");
    Reference u = parse_reference("user/app:1@" + kDigest);
    EXPECT_EQ(u.str(), "docker.io/user/app:1@" + kDigest);
    EXPECT_EQ(u.familiar_name(), "user/app:1@" + kDigest);
    EXPECT_EQ(u.tag_or_digest(), kDigest);
    Reference h = parse_reference("localhost:5000/app");
    EXPECT_EQ(h.familiar_name(), "localhost:5000/app:latest");
    EXPECT_EQ(h.name(), "localhost:5000/app");
}

TEST(Reference, Digests) {
    EXPECT_TRUE(husk::oci::image::is_valid_digest(kDigest));
    EXPECT_FALSE(husk::oci::image::is_valid_digest("sha256:FFFF"));
    EXPECT_FALSE(husk::oci::image::is_valid_digest("sha256:" + std::string(63, 'a')));
    EXPECT_EQ(husk::oci::image::digest_hex(kDigest), std::string(64, 'f'));
    EXPECT_THROW(husk::oci::image::digest_hex("sha256:../../etc/passwd"), husk::Error);
}

}  // namespace
