// husk cp's docker rules, as pure functions: which side names a container, and where a
// copy lands for each kind of SRC and DEST (docker cp's documented table).
#include <gtest/gtest.h>

#include "engine/copy.h"
#include "sys/error.h"

using namespace husk;
using namespace husk::engine;

TEST(CopyEndpoint, ContainerColonPathNamesAContainer) {
    auto e = parse_copy_endpoint("web:/etc/hosts");
    EXPECT_EQ(e.container, "web");
    EXPECT_EQ(e.path, "/etc/hosts");
}

TEST(CopyEndpoint, AbsoluteAndDotPathsWithColonsAreHostPaths) {
    EXPECT_EQ(parse_copy_endpoint("/tmp/a:b").container, "");
    EXPECT_EQ(parse_copy_endpoint("./a:b").container, "");
    EXPECT_EQ(parse_copy_endpoint("./a:b").path, "./a:b");
    EXPECT_EQ(parse_copy_endpoint("plain").container, "");
}

TEST(CopyEndpoint, DashIsTheTarStream) {
    EXPECT_TRUE(parse_copy_endpoint("-").stream());
    EXPECT_FALSE(parse_copy_endpoint("web:-").stream());
}

TEST(CopyEndpoint, EmptyContainerNameIsRefused) {
    EXPECT_THROW(parse_copy_endpoint(":/x"), Error);
}

TEST(CopyTarget, FileIntoMissingDestIsSavedAsDest) {
    auto t = copy_target("/etc/hosts", false, "/tmp/out/h", std::nullopt);
    EXPECT_EQ(t.dir, "/tmp/out");
    EXPECT_EQ(t.name, "h");
}

TEST(CopyTarget, FileIntoMissingDestEndingInSlashIsAnError) {
    EXPECT_THROW(copy_target("/etc/hosts", false, "/tmp/out/", std::nullopt), Error);
}

TEST(CopyTarget, FileOverAFileOverwritesIt) {
    auto t = copy_target("/etc/hosts", false, "/tmp/h", false);
    EXPECT_EQ(t.dir, "/tmp");
    EXPECT_EQ(t.name, "h");
}

TEST(CopyTarget, FileIntoADirectoryKeepsItsName) {
    auto t = copy_target("/etc/hosts", false, "/tmp", true);
    EXPECT_EQ(t.dir, "/tmp");
    EXPECT_EQ(t.name, "hosts");
}

TEST(CopyTarget, DirectoryOntoAFileIsAnError) {
    EXPECT_THROW(copy_target("/etc", true, "/tmp/h", false), Error);
}

TEST(CopyTarget, DirectoryIntoMissingDestBecomesDest) {
    auto t = copy_target("/etc", true, "/tmp/copy", std::nullopt);
    EXPECT_EQ(t.dir, "/tmp");
    EXPECT_EQ(t.name, "copy");
}

TEST(CopyTarget, DirectoryIntoADirectoryIsCopiedUnderItsName) {
    auto t = copy_target("/etc/", true, "/tmp", true);
    EXPECT_EQ(t.dir, "/tmp");
    EXPECT_EQ(t.name, "etc");
}

TEST(CopyTarget, DirectoryEndingInSlashDotCopiesItsContents) {
    auto t = copy_target("/etc/.", true, "/tmp", true);
    EXPECT_EQ(t.dir, "/tmp");
    EXPECT_EQ(t.name, ".");
}
