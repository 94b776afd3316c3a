// StateDir::remove: a container's directory goes whole, whatever is in it: the files
// create makes by name, anything else (procvirt's directory, a stray file) by the walk.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "runtime/state.h"
#include "sys/fileutil.h"

namespace {

class StateDirRemove : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/husk-state-remove-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        root_ = tmpl;
    }
    void TearDown() override { husk::sys::remove_all(root_); }
    bool gone(const std::string& p) {
        struct stat st {};
        return ::lstat(p.c_str(), &st) != 0;
    }
    std::string root_;
};

TEST_F(StateDirRemove, TheFilesCreateMakesAndTheDirectory) {
    husk::runtime::StateDir dir(root_, "c1");
    dir.create_new();
    dir.lock();
    husk::runtime::Record r;
    r.id = "c1";
    dir.save(r);
    ASSERT_EQ(::mkfifo(dir.fifo_path().c_str(), 0600), 0);
    dir.remove();
    EXPECT_TRUE(gone(dir.path()));
    EXPECT_FALSE(dir.exists());
}

TEST_F(StateDirRemove, AnythingElseInItGoesToo) {
    husk::runtime::StateDir dir(root_, "c2");
    dir.create_new();
    husk::runtime::Record r;
    r.id = "c2";
    dir.save(r);
    ASSERT_EQ(::mkdir((dir.path() + "/procvirt").c_str(), 0700), 0);
    std::ofstream(dir.path() + "/procvirt/sock") << "x";
    std::ofstream(dir.path() + "/stray") << "y";
    dir.remove();
    EXPECT_TRUE(gone(dir.path()));
}

TEST_F(StateDirRemove, AMissingDirectoryIsNoError) {
    husk::runtime::StateDir dir(root_, "c3");
    EXPECT_NO_THROW(dir.remove());
}

}  // namespace
