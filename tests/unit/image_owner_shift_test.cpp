// image/owner_shift: the records a rootless unpack keeps (user.containers.override_stat)
// applied by the child in a user namespace, and the ranges the store records. What they
// guard: a file gets its recorded owner and its mode back with its set-id bits (chown
// clears them), the record goes; an owner beyond the range keeps its record; a file
// without one is left alone; the recorded ranges read back as written.
#include "image/owner_shift.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "image/unpack.h"
#include "sys/fd.h"
#include "sys/fileutil.h"

namespace {

using namespace husk;

TEST(ImageOwnerShift, RangesReadBackAsRecorded) {
    image::UserRanges r;
    r.uids = {{0, 1000, 1}, {1, 100000, 65536}};
    r.gids = {{0, 1001, 1}, {1, 200000, 65536}};
    auto back = image::parse_ranges(image::ranges_text(r));
    ASSERT_TRUE(back);
    EXPECT_TRUE(*back == r);
    image::UserRanges moved = r;
    moved.uids[1].host_id = 300000;
    EXPECT_FALSE(moved == r);
    EXPECT_EQ(image::max_container_id(r.uids), 65536u);
    EXPECT_FALSE(image::parse_ranges("uid 0 1000\n"));
    EXPECT_FALSE(image::parse_ranges("uid 0 1000 1\n"));  // no gid line
    EXPECT_FALSE(image::parse_ranges("pid 0 1 1\ngid 0 1 1\n"));
}

// A user's maps: 0 the user, 1..size from `start` (uids and gids alike).
image::UserRanges user_ranges(uint32_t start, uint32_t size) {
    return {{{0, 1000, 1}, {1, start, size}}, {{0, 1000, 1}, {1, start, size}}};
}

TEST(ImageOwnerShift, RangeChangeTellsGrownInPlaceMovedApartAndOverlapping) {
    using image::RangeChange;
    EXPECT_EQ(image::range_change(user_ranges(100000, 65536), user_ranges(100000, 65536)),
              RangeChange::same);
    // same start, the old inside the new: every owner holds
    EXPECT_EQ(image::range_change(user_ranges(100000, 10000), user_ranges(100000, 65536)),
              RangeChange::grown);
    EXPECT_EQ(image::range_change(user_ranges(100000, 65536), user_ranges(300000, 65536)),
              RangeChange::moved);
    // shrunk at the same start, or shifted into the old range: ids of both at other offsets
    EXPECT_EQ(image::range_change(user_ranges(100000, 65536), user_ranges(100000, 1000)),
              RangeChange::overlap);
    EXPECT_EQ(image::range_change(user_ranges(100000, 65536), user_ranges(130000, 65536)),
              RangeChange::overlap);
    // uids moved apart, gids overlapping: the worse
    image::UserRanges mixed = user_ranges(300000, 65536);
    mixed.gids[1].host_id = 110000;
    EXPECT_EQ(image::range_change(user_ranges(100000, 65536), mixed), RangeChange::overlap);
    EXPECT_EQ(image::host_ranges(user_ranges(100000, 65536).uids), "100000-165535");
    EXPECT_EQ(image::host_ranges({{0, 1000, 1}}), "none");
}

TEST(ImageOwnerShift, RecordsAppliedModeKeptRecordGoneBeyondTheRangeKept) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "chown to other ids needs root (the namespace's, or the host's)";
    const char* base = std::getenv("TMPDIR");
    std::string dir = std::string(base != nullptr ? base : "/tmp") + "/husk-ownershift-XXXXXX";
    ASSERT_NE(::mkdtemp(dir.data()), nullptr);
    struct Cleanup {
        std::string d;
        ~Cleanup() { sys::remove_all(d); }
    } cleanup{dir};
    sys::mkdir_all(dir + "/home/someone");
    sys::write_file(dir + "/home/someone/f", "x");
    sys::write_file(dir + "/setuid", "x");
    sys::write_file(dir + "/far", "x");
    sys::write_file(dir + "/plain", "x");
    auto put = [&](const std::string& rel, const std::string& v) {
        return ::lsetxattr((dir + "/" + rel).c_str(), image::kOverrideStatXattr, v.data(), v.size(),
                           0);
    };
    if (put("home/someone", "1000:1000:0700") != 0 && errno == ENOTSUP)
        GTEST_SKIP() << "this file system takes no user.* xattrs";
    ASSERT_EQ(put("home/someone/f", "1000:1001:0640"), 0);
    ASSERT_EQ(put("setuid", "1000:1000:04755"), 0);
    ASSERT_EQ(put("far", "70000:1000:0644"), 0);
    ASSERT_EQ(::chmod((dir + "/home/someone").c_str(), 0755), 0);

    sys::UniqueFd root(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    sys::RawError e;
    ASSERT_TRUE(image::apply_owner_records_raw(root.get(), 65536, 65536, e))
        << e.step.data() << " " << e.path.data();
    auto st = [&](const std::string& rel) {
        struct stat s {};
        EXPECT_EQ(::lstat((dir + "/" + rel).c_str(), &s), 0);
        return s;
    };
    auto has_record = [&](const std::string& rel) {
        return ::lgetxattr((dir + "/" + rel).c_str(), image::kOverrideStatXattr, nullptr, 0) >= 0;
    };
    EXPECT_EQ(st("home/someone").st_uid, 1000u);
    EXPECT_EQ(st("home/someone").st_mode & 07777, 0700u);
    EXPECT_EQ(st("home/someone/f").st_gid, 1001u);
    EXPECT_EQ(st("home/someone/f").st_mode & 07777, 0640u);
    EXPECT_EQ(st("setuid").st_mode & 07777, 04755u);
    EXPECT_FALSE(has_record("home/someone"));
    EXPECT_FALSE(has_record("setuid"));
    EXPECT_EQ(st("far").st_uid, 0u);  // beyond the range: the user's, with its record
    EXPECT_TRUE(has_record("far"));
    EXPECT_EQ(st("plain").st_uid, 0u);
}

}  // namespace
