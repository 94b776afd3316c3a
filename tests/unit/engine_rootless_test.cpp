// Rootless id maps (engine/rootless.h): the user as root plus its /etc/subuid range, the
// user alone with a note, and the set-up mistakes named by the file to fix.
#include <unistd.h>

#include <cerrno>

#include <gtest/gtest.h>

#include "engine/rootless.h"
#include "sys/error.h"

namespace husk::engine {
namespace {

TEST(EngineRootless, RangeGivesRootPlus65536Ids) {
    auto m = rootless_maps("alice", 1000, 1001, "bob:1:5\nalice:100000:65536\n",
                           "alice:200000:70000\n", true);
    ASSERT_EQ(m.uids.size(), 2u);
    EXPECT_EQ(m.uids[0].container_id, 0u);
    EXPECT_EQ(m.uids[0].host_id, 1000u);
    EXPECT_EQ(m.uids[0].size, 1u);
    EXPECT_EQ(m.uids[1].container_id, 1u);
    EXPECT_EQ(m.uids[1].host_id, 100000u);
    EXPECT_EQ(m.uids[1].size, 65536u);
    EXPECT_EQ(m.gids[0].host_id, 1001u);
    EXPECT_EQ(m.gids[1].host_id, 200000u);
    EXPECT_EQ(m.gids[1].size, 65536u);  // at most 65536, as podman
    EXPECT_TRUE(m.note.empty());
}

TEST(EngineRootless, NoRangeIsTheUserAloneWithANote) {
    auto m = rootless_maps("alice", 1000, 1000, "bob:100000:65536\n", "", false);
    ASSERT_EQ(m.uids.size(), 1u);
    EXPECT_EQ(m.uids[0].host_id, 1000u);
    EXPECT_NE(m.note.find("/etc/subuid"), std::string::npos);
}

TEST(EngineRootless, HalfARangeNamesTheFileWithout) {
    try {
        rootless_maps("alice", 1000, 1000, "alice:100000:65536\n", "", true);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("none in /etc/subgid"), std::string::npos);
    }
}

TEST(EngineRootless, RangeWithoutTheHelpersSaysInstallUidmap) {
    try {
        rootless_maps("alice", 1000, 1000, "alice:100000:65536\n", "alice:100000:65536\n", false);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("install the uidmap package"), std::string::npos);
    }
}

TEST(EngineRootless, UnmappedMountIdsAreDropped) {
    oci::Spec s;
    s.linux_.emplace();
    s.linux_->uid_mappings = {{0, 1000, 1}};
    s.linux_->gid_mappings = {{0, 1000, 1}, {1, 100000, 65536}};
    oci::Mount pts;
    pts.destination = "/dev/pts";
    pts.options = {"nosuid", "uid=5", "gid=5", "mode=620"};
    s.mounts.push_back(pts);
    drop_unmapped_mount_ids(s);
    EXPECT_EQ(s.mounts[0].options, (std::vector<std::string>{"nosuid", "gid=5", "mode=620"}));
}

// What the child of in_container_userns throws comes back with its errno, kind and exit
// code, not as a bare message: callers decide by kind (cp's ENOENT of a user's container).
TEST(EngineRootless, TheUsernsChildsErrorKeepsItsKind) {
    if (::geteuid() != 0) GTEST_SKIP() << "maps of other ids need root (or newuidmap)";
    std::vector<oci::IdMapping> maps{{0, 0, 1}};
    try {
        (void)in_container_userns(maps, maps, []() -> std::string {
            throw Error("Could not find the file /nope\nin container c", ExitCode{3},
                        ErrorKind::exec_not_found, ENOENT);
        });
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "Could not find the file /nope\nin container c");
        EXPECT_EQ(e.code(), ENOENT);
        EXPECT_EQ(e.kind(), ErrorKind::exec_not_found);
        EXPECT_EQ(e.exit_code(), 3);
    }
    try {
        (void)in_container_userns(maps, maps,
                                  []() -> std::string { throw_sys("open", "/x", EACCES); });
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), EACCES);
        EXPECT_TRUE(permission_denied(e));
        EXPECT_EQ(e.exit_code(), 0);
    }
}

}  // namespace
}  // namespace husk::engine
