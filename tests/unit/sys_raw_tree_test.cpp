// sys/raw_tree: the walk and removal a child in a user namespace runs with system calls
// only. What they guard: every entry is visited once, parents first, with its type and
// path; a symlink is never followed (out of the tree or into a directory); removal takes
// deep trees and directories the owner may not write, and nothing beside them.
#include "sys/raw_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sys/fd.h"
#include "sys/fileutil.h"

namespace {

using namespace husk;

class SysRawTree : public ::testing::Test {
  protected:
    void SetUp() override {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/husk-rawtree-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override {
        if (dir_.empty()) return;
        ::chmod(path("t/ro").c_str(), 0755);
        sys::remove_all(dir_);
    }
    std::string path(const std::string& rel) const { return dir_ + "/" + rel; }
    sys::UniqueFd open_dir(const std::string& rel) const {
        return sys::UniqueFd(::open(path(rel).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    }

    std::string dir_;
};

bool record(void* ctx, int /*parent*/, const char* /*name*/, unsigned char type, const char* path,
            sys::RawError& /*e*/) {
    static_cast<std::vector<std::pair<std::string, int>>*>(ctx)->emplace_back(path, type);
    return true;
}

TEST_F(SysRawTree, WalkVisitsEachEntryOnceParentsFirstFollowingNoSymlink) {
    sys::mkdir_all(path("t/a/b"));
    sys::mkdir_all(path("outside"));
    sys::write_file(path("outside/secret"), "x");
    sys::write_file(path("t/a/b/f"), "x");
    ASSERT_EQ(::symlink("../outside", path("t/a/link").c_str()), 0);
    sys::UniqueFd root = open_dir("t");
    std::vector<std::pair<std::string, int>> seen;
    sys::RawError e;
    ASSERT_TRUE(sys::walk_tree_raw(root.get(), record, &seen, e));
    std::map<std::string, int> types(seen.begin(), seen.end());
    EXPECT_EQ(seen.size(), 4u);
    EXPECT_EQ(types["a"], DT_DIR);
    EXPECT_EQ(types["a/b"], DT_DIR);
    EXPECT_EQ(types["a/b/f"], DT_REG);
    EXPECT_EQ(types["a/link"], DT_LNK);
    EXPECT_FALSE(types.contains("a/link/secret"));
    auto pos = [&](const std::string& p) {
        for (size_t i = 0; i < seen.size(); ++i)
            if (seen[i].first == p) return i;
        return seen.size();
    };
    EXPECT_LT(pos("a"), pos("a/b"));
    EXPECT_LT(pos("a/b"), pos("a/b/f"));
}

TEST_F(SysRawTree, AVisitorsFailureStopsTheWalkWithItsStepAndPath) {
    sys::mkdir_all(path("t/a"));
    sys::write_file(path("t/a/f"), "x");
    sys::UniqueFd root = open_dir("t");
    sys::RawError e;
    auto refuse = [](void*, int, const char*, unsigned char type, const char* p,
                     sys::RawError& err) { return type != DT_REG || err.fail("chown", p, EPERM); };
    EXPECT_FALSE(sys::walk_tree_raw(root.get(), refuse, nullptr, e));
    EXPECT_EQ(e.err, EPERM);
    EXPECT_STREQ(e.step.data(), "chown");
    EXPECT_STREQ(e.path.data(), "a/f");
}

TEST_F(SysRawTree, RemoveTakesDeepTreesAndReadOnlyDirectoriesNotWhatLinksPointTo) {
    std::string deep = "t";
    for (int i = 0; i < 40; ++i) deep += "/d";
    sys::mkdir_all(path(deep));
    for (int i = 0; i < 300; ++i) sys::write_file(path("t/d/many" + std::to_string(i)), "x");
    sys::mkdir_all(path("t/ro"));
    sys::write_file(path("t/ro/f"), "x");
    ASSERT_EQ(::chmod(path("t/ro").c_str(), 0555), 0);
    sys::mkdir_all(path("outside"));
    sys::write_file(path("outside/kept"), "x");
    ASSERT_EQ(::symlink("../outside", path("t/link").c_str()), 0);
    sys::UniqueFd top = open_dir("");
    sys::RawError e;
    ASSERT_TRUE(sys::remove_tree_raw(top.get(), "t", e)) << e.step.data() << " " << e.path.data();
    EXPECT_FALSE(sys::exists_nofollow(path("t")));
    EXPECT_TRUE(sys::exists_nofollow(path("outside/kept")));
    EXPECT_TRUE(sys::remove_tree_raw(top.get(), "absent", e));
    sys::write_file(path("plain"), "x");
    EXPECT_TRUE(sys::remove_tree_raw(top.get(), "plain", e));
    EXPECT_FALSE(sys::exists_nofollow(path("plain")));
}

// A failure deep in a tree names the whole path below the root, not its first 255
// bytes nor the entry's name alone.
TEST_F(SysRawTree, FailuresNameTheWholePath) {
    const std::string long_name(200, 'n');
    std::string rel = long_name + "/" + long_name + "/" + long_name;
    sys::mkdir_all(path("t/" + rel));
    sys::write_file(path("t/" + rel + "/f"), "x");
    sys::UniqueFd root = open_dir("t");
    sys::RawError e;
    auto refuse = [](void*, int, const char*, unsigned char type, const char* p,
                     sys::RawError& err) { return type != DT_REG || err.fail("chown", p, EPERM); };
    EXPECT_FALSE(sys::walk_tree_raw(root.get(), refuse, nullptr, e));
    EXPECT_EQ(std::string(e.path.data()), rel + "/f");

    // removal: a tree deeper than 256 levels stops at the 257th, named whole
    std::string deep = "t2";
    for (int i = 0; i < 260; ++i) deep += "/d";
    sys::mkdir_all(path(deep));
    sys::UniqueFd top = open_dir("");
    sys::RawError e2;
    EXPECT_FALSE(sys::remove_tree_raw(top.get(), "t2", e2));
    EXPECT_EQ(e2.err, ELOOP);
    std::string want = "t2";
    for (int i = 0; i < 257; ++i) want += "/d";
    EXPECT_EQ(std::string(e2.path.data()), want);
    sys::remove_all(path("t2"));
}

}  // namespace
