// CVE-2021-30465 class (mount destination a symlink out of the rootfs, or swapped for
// one between check and mount) and CVE-2024-45310 class (racing the creation of a
// missing mount target to create directories on the host).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "attack_util.h"

using namespace husk::test;
using namespace husk::test::attack;
using nlohmann::json;

namespace {

// A host directory with a marker file: the bind source the container should see.
std::string make_source(Bundle& b) {
    std::string src = b.dir() + "/src";
    ::mkdir(src.c_str(), 0755);
    write_file(src + "/MARK", "bind source\n");
    return src;
}

void add_bind(Bundle& b, const std::string& src, const std::string& dest) {
    b.config["mounts"].push_back(
        {{"destination", dest}, {"type", "bind"}, {"source", src}, {"options", {"rbind", "rw"}}});
}

// Did the bind of `src` land somewhere the container can see (inside its root)?
bool container_sees_bind(const json& probe, const std::string& src) {
    if (!probe.is_object() || !probe["mounts"].is_array()) return false;
    // mountinfo's "root" is the path inside the source's filesystem: a suffix of src.
    std::string tail = src.substr(src.rfind('/', src.size() - 5));
    for (const auto& m : probe["mounts"]) {
        if (!m["root"].is_string()) continue;
        std::string r = m["root"];
        if (r.size() >= tail.size() && r.compare(r.size() - tail.size(), tail.size(), tail) == 0)
            return true;
    }
    return false;
}

}  // namespace

TEST(SecurityAttackCVE_2021_30465, MountDestinationSymlinkOutOfTheRootfsStaysInside) {
    Bundle b("sectests-mntlink");
    std::string outside = b.dir() + "/outside", outside2 = b.dir() + "/outside2";
    ::mkdir(outside.c_str(), 0755);
    ::mkdir(outside2.c_str(), 0755);
    std::string src = make_source(b);
    // An absolute symlink and a relative one climbing out with "..".
    ASSERT_EQ(::symlink(outside.c_str(), (b.rootfs() + "/evil").c_str()), 0);
    ASSERT_EQ(::symlink("../../../../../../../../outside2", (b.rootfs() + "/evil2").c_str()), 0);
    b.config["mounts"].push_back(
        {{"destination", "/evil"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
    add_bind(b, src, "/evil2/sub");
    b.save();
    std::string id = b.id();
    Result r = b.runtime({"run", "--bundle", b.dir(), id});
    // Either the symlinks resolve inside the root and the mounts land there, or create
    // fails cleanly: never a mount (or a directory) on the host.
    if (r.status == 0) {
        json p = last_json_line(r.out);
        EXPECT_TRUE(container_sees_bind(p, src))
            << "the bind mount is not visible inside the container: " << p.dump();
    } else {
        EXPECT_NE(r.err.find("mount target"), std::string::npos) << r.err;
        EXPECT_EQ(b.runtime({"state", id}).status, 1);
    }
    EXPECT_TRUE(list_dir(outside).empty());
    EXPECT_TRUE(list_dir(outside2).empty()) << "a mount target was created on the host";
    EXPECT_TRUE(mounts_under(outside).empty());
    EXPECT_TRUE(mounts_under(outside2).empty());
}

namespace {

// Flip rootfs/race between a directory and a symlink to a host directory as fast as
// possible while containers whose mount targets go through it are created.
void race(const std::string& dest, const char* tag) {
    Bundle b(tag);
    std::string outside = b.dir() + "/outside";
    ::mkdir(outside.c_str(), 0755);
    std::string src = make_source(b);
    std::string dir = b.rootfs() + "/race", link = b.rootfs() + "/race-link";
    ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
    ASSERT_EQ(::symlink(outside.c_str(), link.c_str()), 0);
    add_bind(b, src, dest);
    b.save();

    std::atomic<bool> stop{false};
    std::atomic<long> flips{0};
    std::thread racer([&] {
        while (!stop) {
            if (::renameat2(AT_FDCWD, dir.c_str(), AT_FDCWD, link.c_str(), RENAME_EXCHANGE) == 0)
                ++flips;
        }
    });
    int created = 0;
    for (int i = 0; i < 25; ++i) {
        std::string id = b.id();
        Result r = b.runtime({"run", "--bundle", b.dir(), id});
        if (r.status == 0) {
            ++created;
            json p = last_json_line(r.out);
            EXPECT_TRUE(container_sees_bind(p, src))
                << "run " << i << ": the bind landed outside the root";
        }
        EXPECT_EQ(b.runtime({"state", id}).status, 1);
        EXPECT_TRUE(list_dir(outside).empty())
            << "run " << i << ": created on the host: " << list_dir(outside)[0];
        EXPECT_TRUE(mounts_under(outside).empty()) << "run " << i << ": mounted on the host";
        if (!list_dir(outside).empty()) break;
    }
    stop = true;
    racer.join();
    EXPECT_GT(flips.load(), 0);
    // Whatever the race did, the runtime either mounted inside the root or failed cleanly;
    // at least some runs must get through (the test is not vacuous).
    EXPECT_GT(created, 0);
}

}  // namespace

TEST(SecurityAttackCVE_2021_30465, MountDestinationSwappedForASymlinkDuringCreate) {
    race("/race/mnt", "sectests-mntrace");
}

TEST(SecurityAttackCVE_2024_45310, RacingTheCreationOfAMissingMountTarget) {
    race("/race/a/b/c/mnt", "sectests-mkrace");
}
