// sys/safe_path: directories made inside a root stay inside it whatever symlinks the root
// holds, and what exists is returned as it is. mkdir_all_in_root looks the whole path up
// first, then makes the missing ones from the deepest parent that exists (the init makes
// most of its mount targets that way).
#include "sys/safe_path.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "sys/fd.h"
#include "sys/fileutil.h"

namespace {

using namespace husk;

class SysSafePath : public ::testing::Test {
  protected:
    void SetUp() override {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/husk-safepath-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        top_ = tmpl;
        ASSERT_EQ(::mkdir((top_ + "/root").c_str(), 0755), 0);
        root_.reset(::open((top_ + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        ASSERT_TRUE(root_);
    }
    void TearDown() override {
        if (!top_.empty()) sys::remove_all(top_);
    }
    std::string in_root(const std::string& rel) const { return top_ + "/root/" + rel; }
    static bool is_dir(const std::string& p) {
        struct stat st {};
        return ::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    }
    // The inode an fd refers to is the one at `p`.
    static bool same(int fd, const std::string& p) {
        struct stat a {
        }, b{};
        return ::fstat(fd, &a) == 0 && ::stat(p.c_str(), &b) == 0 && a.st_dev == b.st_dev &&
               a.st_ino == b.st_ino;
    }
    std::string top_;
    sys::UniqueFd root_;
};

TEST_F(SysSafePath, MakesEveryMissingDirectoryAndReturnsTheLast) {
    sys::UniqueFd fd(sys::mkdir_all_in_root(root_.get(), "/a/b/c", 0750));
    ASSERT_TRUE(fd) << -fd.get();
    EXPECT_TRUE(same(fd.get(), in_root("a/b/c")));
    for (const char* d : {"a", "a/b", "a/b/c"}) {
        struct stat st {};
        ASSERT_EQ(::lstat(in_root(d).c_str(), &st), 0) << d;
        EXPECT_TRUE(S_ISDIR(st.st_mode)) << d;
    }
}

TEST_F(SysSafePath, OnlyTheMissingTailIsMade) {
    ASSERT_EQ(::mkdir(in_root("a").c_str(), 0700), 0);
    ASSERT_EQ(::mkdir(in_root("a/b").c_str(), 0700), 0);
    sys::UniqueFd fd(sys::mkdir_all_in_root(root_.get(), "a//b/c/", 0755));
    ASSERT_TRUE(fd) << -fd.get();
    EXPECT_TRUE(same(fd.get(), in_root("a/b/c")));
    struct stat st {};
    ASSERT_EQ(::stat(in_root("a/b").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);  // what existed is left as it was
}

TEST_F(SysSafePath, ExistingPathAndTheRootItself) {
    ASSERT_EQ(::mkdir(in_root("x").c_str(), 0755), 0);
    sys::UniqueFd fd(sys::mkdir_all_in_root(root_.get(), "/x", 0755));
    ASSERT_TRUE(fd);
    EXPECT_TRUE(same(fd.get(), in_root("x")));
    sys::UniqueFd r(sys::mkdir_all_in_root(root_.get(), "/", 0755));
    ASSERT_TRUE(r);
    EXPECT_TRUE(same(r.get(), in_root(".")));
}

TEST_F(SysSafePath, AbsoluteSymlinkIsFollowedInsideTheRoot) {
    // root/link -> /target: inside the root, not the host's /target.
    ASSERT_EQ(::symlink("/target", in_root("link").c_str()), 0);
    ASSERT_EQ(::mkdir(in_root("target").c_str(), 0755), 0);
    sys::UniqueFd fd(sys::mkdir_all_in_root(root_.get(), "/link/made", 0755));
    ASSERT_TRUE(fd) << -fd.get();
    EXPECT_TRUE(is_dir(in_root("target/made")));
    EXPECT_TRUE(same(fd.get(), in_root("target/made")));
}

TEST_F(SysSafePath, DotDotNeverLeavesTheRoot) {
    sys::UniqueFd fd(sys::mkdir_all_in_root(root_.get(), "../../escaped/d", 0755));
    ASSERT_TRUE(fd) << -fd.get();
    EXPECT_TRUE(is_dir(in_root("escaped/d")));
    EXPECT_FALSE(is_dir(top_ + "/escaped"));
}

TEST_F(SysSafePath, MissingParentBehindDotDotIsMade) {
    // "a/../b" with no "a": a is made (as the walk from the top did), then b beside it.
    sys::UniqueFd fd(sys::mkdir_all_in_root(root_.get(), "a/../b", 0755));
    ASSERT_TRUE(fd) << -fd.get();
    EXPECT_TRUE(is_dir(in_root("a")));
    EXPECT_TRUE(same(fd.get(), in_root("b")));
}

TEST_F(SysSafePath, FileOnTheWayIsAnError) {
    sys::UniqueFd f(::open(in_root("file").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    ASSERT_TRUE(f);
    EXPECT_EQ(sys::mkdir_all_in_root(root_.get(), "file/sub", 0755), -ENOTDIR);
    EXPECT_EQ(sys::mkdir_all_in_root(root_.get(), "file", 0755), -ENOTDIR);
}

TEST_F(SysSafePath, DanglingSymlinkIsNotReplaced) {
    // A symlink to a missing place: mkdir says EEXIST, and the lookup still finds nothing.
    ASSERT_EQ(::symlink("/nowhere/deeper", in_root("dangling").c_str()), 0);
    EXPECT_EQ(sys::mkdir_all_in_root(root_.get(), "dangling", 0755), -ENOENT);
    struct stat st {};
    ASSERT_EQ(::lstat(in_root("dangling").c_str(), &st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
}

TEST_F(SysSafePath, EnsureMakesDirectoriesAndFiles) {
    sys::UniqueFd d(sys::ensure_in_root(root_.get(), "/dev/pts", true, 0755));
    ASSERT_TRUE(d) << -d.get();
    EXPECT_TRUE(is_dir(in_root("dev/pts")));
    sys::UniqueFd f(sys::ensure_in_root(root_.get(), "/etc/hosts", false, 0644));
    ASSERT_TRUE(f) << -f.get();
    struct stat st {};
    ASSERT_EQ(::lstat(in_root("etc/hosts").c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    // Asked for a directory where a file is: refused, not replaced.
    EXPECT_EQ(sys::ensure_in_root(root_.get(), "/etc/hosts", true, 0755), -ENOTDIR);
}

}  // namespace
