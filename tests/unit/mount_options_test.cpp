#include "runtime/mount_options.h"

#include <gtest/gtest.h>
#include <sys/mount.h>

#include "sys/error.h"

using husk::runtime::parse_mount_options;
using husk::runtime::parse_propagation;

TEST(MountOptions, BindFromTypeOrOption) {
    EXPECT_TRUE(parse_mount_options("bind", {}).bind);
    EXPECT_FALSE(parse_mount_options("bind", {}).recursive);
    auto r = parse_mount_options("none", {"rbind", "ro"});
    EXPECT_TRUE(r.bind);
    EXPECT_TRUE(r.recursive);
    EXPECT_EQ(r.attr_set, MOUNT_ATTR_RDONLY);
    EXPECT_FALSE(parse_mount_options("proc", {"nosuid"}).bind);
}

TEST(MountOptions, FlagsAndTheirNegations) {
    auto o = parse_mount_options("tmpfs", {"nosuid", "nodev", "noexec", "ro", "rw", "suid"});
    EXPECT_EQ(o.attr_set, MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    EXPECT_EQ(o.attr_clr, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID);
}

TEST(MountOptions, RecursiveAttributes) {
    auto o = parse_mount_options("bind", {"rbind", "rro", "rnosuid", "rnoexec"});
    EXPECT_EQ(o.attr_set, 0u);
    EXPECT_EQ(o.rattr_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
}

TEST(MountOptions, AtimeIsOneField) {
    auto o = parse_mount_options("tmpfs", {"noatime", "strictatime"});
    EXPECT_EQ(o.attr_set & MOUNT_ATTR__ATIME, MOUNT_ATTR_STRICTATIME);
    EXPECT_EQ(o.attr_clr & MOUNT_ATTR__ATIME, MOUNT_ATTR__ATIME);
}

TEST(MountOptions, PropagationAndData) {
    auto o = parse_mount_options("tmpfs", {"rslave", "size=65536k", "mode=755", "newinstance"});
    EXPECT_EQ(o.propagation, static_cast<uint64_t>(MS_SLAVE));
    EXPECT_TRUE(o.propagation_recursive);
    ASSERT_EQ(o.params.size(), 3u);
    EXPECT_EQ(o.params[0], (std::pair<std::string, std::string>{"size", "65536k"}));
    EXPECT_EQ(o.params[2], (std::pair<std::string, std::string>{"newinstance", ""}));
}

TEST(MountOptions, IgnoredOptionsAreNotData) {
    auto o = parse_mount_options("proc", {"defaults", "remount", "async"});
    EXPECT_TRUE(o.params.empty());
}

TEST(MountOptions, RootfsPropagation) {
    EXPECT_EQ(parse_propagation("rslave"), static_cast<unsigned long>(MS_SLAVE | MS_REC));
    EXPECT_EQ(parse_propagation("private"), static_cast<unsigned long>(MS_PRIVATE));
    EXPECT_THROW(parse_propagation("sideways"), husk::Error);
}
