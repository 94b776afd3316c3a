// image/copy_up: a user's copy-up of a hardlink's target that only a lower layer has,
// system calls only (run here by this process, as the unpacker does for a user without a
// range). What it guards: the file and each directory on its way the layer lacks are
// copied from the layer that shows them, with their contents, modes, times and xattrs, the
// caller's own, their owners in the container kept in records (the lower's record when it
// has one, else its owner); whiteouts and opaque directories hide what is below them.
#include "image/copy_up.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "image/unpack.h"
#include "sys/fd.h"
#include "sys/fileutil.h"

namespace {

using namespace husk;

class ImageCopyUp : public ::testing::Test {
  protected:
    void SetUp() override {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/husk-copyup-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        for (const char* l : {"top", "mid", "low"}) sys::mkdir_all(path(l));
    }
    void TearDown() override {
        if (!dir_.empty()) sys::remove_all(dir_);
    }
    std::string path(const std::string& rel) const { return dir_ + "/" + rel; }
    sys::UniqueFd open_dir(const std::string& rel) const {
        return sys::UniqueFd(::open(path(rel).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    }
    static std::string record_of(const std::string& p) {
        std::array<char, 64> v{};
        ssize_t n = ::lgetxattr(p.c_str(), image::kOverrideStatXattr, v.data(), v.size());
        return n < 0 ? std::string() : std::string(v.data(), static_cast<size_t>(n));
    }
    // copy_up_raw of `rel` into top over mid and low; the error's step, or "" when done
    std::string copy_up(const std::string& rel, int* err = nullptr,
                        const image::UserRanges* host = nullptr) {
        sys::UniqueFd top = open_dir("top"), mid = open_dir("mid"), low = open_dir("low");
        std::array<int, 2> lowers{mid.get(), low.get()};
        sys::RawError e;
        bool ok = image::copy_up_raw(top.get(), lowers.data(), lowers.size(), rel.c_str(), host, e);
        if (err != nullptr) *err = e.err;
        return ok ? std::string() : std::string(e.step.data()) + " " + e.path.data();
    }

    std::string dir_;
};

TEST_F(ImageCopyUp, CopiesTheFileAndItsDirectoriesWithTheirOwnersInRecords) {
    if (::geteuid() != 0) GTEST_SKIP() << "the lower files of other ids need root to make";
    sys::mkdir_all(path("low/home/someone"));
    sys::write_file(path("low/home/someone/secret"), "secret\n");
    ASSERT_EQ(::chown(path("low/home/someone").c_str(), 1000, 1001), 0);
    ASSERT_EQ(::chmod(path("low/home/someone").c_str(), 0750), 0);
    ASSERT_EQ(::chown(path("low/home/someone/secret").c_str(), 1000, 1000), 0);
    ASSERT_EQ(::chmod(path("low/home/someone/secret").c_str(), 0600), 0);
    ASSERT_EQ(::setxattr(path("low/home/someone/secret").c_str(), "user.note", "n", 1, 0), 0);
    std::array<timespec, 2> old{timespec{1700000000, 0}, timespec{1700000000, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path("low/home/someone").c_str(), old.data(), 0), 0);
    // /home is the middle layer's: its record (a user's unshifted layer) is copied as it is
    sys::mkdir_all(path("mid/home"));
    ASSERT_EQ(::setxattr(path("mid/home").c_str(), image::kOverrideStatXattr, "7:8:0711", 8, 0), 0);
    ASSERT_EQ(::chmod(path("mid/home").c_str(), 0711), 0);

    ASSERT_EQ(copy_up("home/someone/secret"), "");
    struct stat st {};
    ASSERT_EQ(::lstat(path("top/home/someone/secret").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, ::geteuid());  // the caller's, not the lower's
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(sys::read_file(path("top/home/someone/secret")), "secret\n");
    EXPECT_EQ(record_of(path("top/home/someone/secret")), "1000:1000:0600");
    std::array<char, 8> v{};
    EXPECT_EQ(::getxattr(path("top/home/someone/secret").c_str(), "user.note", v.data(), v.size()),
              1);
    ASSERT_EQ(::lstat(path("top/home/someone").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0750u);
    EXPECT_EQ(st.st_mtim.tv_sec, 1700000000);  // kept though the file was made in it
    EXPECT_EQ(record_of(path("top/home/someone")), "1000:1001:0750");
    ASSERT_EQ(::lstat(path("top/home").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0711u);
    EXPECT_EQ(record_of(path("top/home")), "7:8:0711");
    // the caller's own files are the container's root's: no record
    sys::write_file(path("low/mine"), "m");
    ASSERT_EQ(copy_up("mine"), "");
    EXPECT_EQ(record_of(path("top/mine")), "");
}

TEST_F(ImageCopyUp, WhiteoutsAndOpaqueDirectoriesHideWhatIsBelow) {
    sys::mkdir_all(path("low/a"));
    sys::write_file(path("low/a/f"), "x");
    sys::write_file(path("low/gone"), "x");
    ASSERT_EQ(::mknod(path("mid/gone").c_str(), S_IFCHR | 0600, makedev(0, 0)), 0);
    int err = 0;
    EXPECT_EQ(copy_up("gone", &err), "hardlink target gone");
    EXPECT_EQ(err, ENOENT);
    sys::mkdir_all(path("mid/a"));
    ASSERT_EQ(::setxattr(path("mid/a").c_str(), "user.overlay.opaque", "y", 1, 0), 0);
    EXPECT_NE(copy_up("a/f", &err), "");
    EXPECT_EQ(err, ENOENT);
    EXPECT_FALSE(sys::exists_nofollow(path("top/a")));
    EXPECT_NE(copy_up("a", &err), "");  // a directory is never a hardlink's target
    EXPECT_EQ(err, EISDIR);
}

// The fallback where newuidmap refuses the user's maps: the copy is made by the user, who
// sees the host's ids of a shifted lower layer (the range's), and records the image's
// owners through the user's maps, not the host's ids (which the owner shift would keep as
// ids beyond the range: the file would stay the user's, root in the container).
TEST_F(ImageCopyUp, AsTheUserRecordsTheContainerIdsOfShiftedFiles) {
    if (::geteuid() != 0) GTEST_SKIP() << "the lower files of other ids need root to make";
    image::UserRanges host;
    host.uids = {{0, ::geteuid(), 1}, {1, 200000, 65536}};
    host.gids = {{0, ::getegid(), 1}, {1, 300000, 65536}};
    sys::mkdir_all(path("low/srv"));
    ASSERT_EQ(::chown(path("low/srv").c_str(), 200000 + 999, 300000 + 999), 0);
    ASSERT_EQ(::chmod(path("low/srv").c_str(), 0755), 0);
    sys::write_file(path("low/srv/f"), "f");
    ASSERT_EQ(::chown(path("low/srv/f").c_str(), 200000 + 999, 300000 + 49), 0);
    ASSERT_EQ(::chmod(path("low/srv/f").c_str(), 0640), 0);
    sys::write_file(path("low/other"), "o");  // an id the maps do not hold: the overflow id
    ASSERT_EQ(::chown(path("low/other").c_str(), 100, 100), 0);
    ASSERT_EQ(::chmod(path("low/other").c_str(), 0644), 0);
    ASSERT_EQ(copy_up("srv/f", nullptr, &host), "");
    EXPECT_EQ(record_of(path("top/srv/f")), "1000:50:0640");
    EXPECT_EQ(record_of(path("top/srv")), "1000:1000:0755");
    ASSERT_EQ(copy_up("other", nullptr, &host), "");
    EXPECT_EQ(record_of(path("top/other")), "65534:65534:0644");
}

}  // namespace
