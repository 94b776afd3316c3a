// image::Store's container roots against the real kernel (root): overlayfs
// roots with a private upper layer, the copying fallback shifted to a host uid
// range for user-namespaced containers, release, and rmi refusing an image in use.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "image/oci_archive.h"
#include "image/store.h"
#include "sys/error.h"
#include "sys/fileutil.h"

namespace img = husk::image;

namespace {

std::string slurp(const std::string& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

class RootfsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (mounts, chown)";
        const char* src = std::getenv("HUSK_SRC");
        ASSERT_NE(src, nullptr) << "HUSK_SRC must name the source tree";
        char tmpl[] = "/tmp/images-rootfs-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        work_ = tmpl;
        std::string cmd = fmt::format(
            "python3 {0}/scripts/fixtures/mkimage.py multilayer {1}/layout --tag multi >/dev/null "
            "&& "
            "tar -C {1}/layout -cf {1}/multi.tar .",
            src, work_);
        ASSERT_EQ(std::system(cmd.c_str()), 0);
        store_ = std::make_unique<img::Store>(work_ + "/root");
        auto names = img::load_archive(*store_, work_ + "/multi.tar", "husk/multi:latest");
        ASSERT_EQ(names, std::vector<std::string>{"docker.io/husk/multi:latest"});
    }
    void TearDown() override {
        if (work_.empty() || !store_) return;
        for (auto& c : {"c1", "c2", "c3"}) {
            try {
                store_->release_rootfs(c);
            } catch (const std::exception& e) {
                ADD_FAILURE() << e.what();
            }
        }
        husk::sys::remove_all(work_);
    }

    std::string work_;
    std::unique_ptr<img::Store> store_;
};

TEST_F(RootfsTest, OverlayRootWithPrivateUpper) {
    std::string root = store_->prepare_rootfs("husk/multi", "c1");
    EXPECT_EQ(root, work_ + "/root/rootfs/c1/merged");
    if (slurp(work_ + "/root/rootfs/c1/mode") != "overlay\n")
        GTEST_SKIP() << "overlayfs not available here; the copy was used";
    EXPECT_EQ(slurp(root + "/a/f1"), "one, changed\n");
    EXPECT_FALSE(husk::sys::exists_nofollow(root + "/gone/inner"));
    EXPECT_FALSE(husk::sys::exists_nofollow(root + "/d/x"));
    // writes land in the container's upper layer, never in the shared snapshots
    std::ofstream(root + "/a/f1") << "written\n";
    std::ofstream(root + "/new") << "new\n";
    ASSERT_EQ(::unlink((root + "/etc/hostname").c_str()), 0);
    std::string second = store_->prepare_rootfs("husk/multi", "c2");
    EXPECT_EQ(slurp(second + "/a/f1"), "one, changed\n");
    EXPECT_FALSE(husk::sys::exists_nofollow(second + "/new"));
    EXPECT_TRUE(husk::sys::exists_nofollow(second + "/etc/hostname"));
    EXPECT_TRUE(husk::sys::exists_nofollow(work_ + "/root/rootfs/c1/upper/new"));
    EXPECT_THROW(store_->prepare_rootfs("husk/multi", "c1"), husk::Error);  // exists already
    store_->release_rootfs("c1");
    EXPECT_FALSE(husk::sys::exists_nofollow(work_ + "/root/rootfs/c1"));
}

// What a container whose root is host uid 100000 must see, however the root was made.
void expect_shifted(const std::string& root) {
    struct stat st {};
    ASSERT_EQ(::lstat(root.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 100000u);
    ASSERT_EQ(::lstat((root + "/home/user/owned").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 101000u);
    EXPECT_EQ(st.st_gid, 201000u);
    ASSERT_EQ(::lstat((root + "/a/keep").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 100033u);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    ASSERT_EQ(::lstat((root + "/bin/su").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 04755u);  // chown must not lose setuid
    ASSERT_EQ(::lstat((root + "/a/rel").c_str(), &st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    EXPECT_EQ(st.st_uid, 100000u);
    // whiteouts and opaque directories applied, hardlinks kept
    EXPECT_FALSE(husk::sys::exists_nofollow(root + "/gonedir"));
    EXPECT_FALSE(husk::sys::exists_nofollow(root + "/d/x"));
    EXPECT_TRUE(husk::sys::exists_nofollow(root + "/d/z"));
    EXPECT_EQ(slurp(root + "/gone/back"), "back\n");
    struct stat a {
    }, b{};
    ASSERT_EQ(::lstat((root + "/a/f1").c_str(), &a), 0);
    ASSERT_EQ(::lstat((root + "/a/f1link").c_str(), &b), 0);
    EXPECT_EQ(a.st_ino, b.st_ino);
}

TEST_F(RootfsTest, UserNamespaceRootIdmappedOrCopied) {
    img::IdShift shift{100000, 200000, 65536, {}, {}};
    std::string root = store_->prepare_rootfs("husk/multi", "c3", shift);
    std::string mode = slurp(work_ + "/root/rootfs/c3/mode");
    EXPECT_TRUE(mode == "overlay-idmapped\n" || mode == "copy\n") << mode;
    std::cout << "user-namespaced root made by: " << mode;
    expect_shifted(root);
    if (mode == "overlay-idmapped\n") {
        // the shared snapshots keep their own owners; writes go to the container's upper
        auto snap = store_->snapshot_dir(store_->resolve("husk/multi").chain_ids[0]) + "/fs";
        struct stat st {};
        ASSERT_EQ(::lstat((snap + "/home/user/owned").c_str(), &st), 0);
        EXPECT_EQ(st.st_uid, 1000u);
        std::ofstream(root + "/a/f1") << "mine\n";
        EXPECT_EQ(slurp(root + "/a/f1"), "mine\n");
        ASSERT_EQ(::lstat((work_ + "/root/rootfs/c3/upper/a/f1").c_str(), &st), 0);
        EXPECT_EQ(st.st_uid, 100000u);
    }
    store_->release_rootfs("c3");
    EXPECT_FALSE(husk::sys::exists_nofollow(work_ + "/root/rootfs/c3"));
    // the snapshots survived the release (nothing deleted through a mount)
    EXPECT_EQ(slurp(store_->snapshot_dir(store_->resolve("husk/multi").chain_ids[1]) + "/fs/a/f1"),
              "one, changed\n");
}

TEST_F(RootfsTest, ShiftedCopyFallback) {
    img::IdShift shift{100000, 200000, 65536, {}, {}};
    std::string dst = work_ + "/copy";
    husk::sys::mkdir_all(dst);
    ASSERT_EQ(::chown(dst.c_str(), shift.uid, shift.gid), 0);
    for (auto& c : store_->resolve("husk/multi").chain_ids)
        img::apply_layer_copy(store_->snapshot_dir(c) + "/fs", dst, shift);
    expect_shifted(dst);
}

TEST_F(RootfsTest, RmiRefusesAnImageInUse) {
    const char* husk = std::getenv("HUSK");
    if (husk == nullptr) GTEST_SKIP() << "HUSK (the husk binary) not set";
    store_->prepare_rootfs("husk/multi", "c1");
    std::string rmi = fmt::format("{} --root {}/root rmi husk/multi 2>/dev/null", husk, work_);
    EXPECT_NE(std::system(rmi.c_str()), 0);
    store_->release_rootfs("c1");
    EXPECT_EQ(std::system((rmi + " >/dev/null").c_str()), 0);
    EXPECT_TRUE(store_->records().empty());
}

TEST_F(RootfsTest, SaveLoadRoundTrip) {
    img::save_oci_archive(*store_, {"husk/multi"}, work_ + "/saved.tar");
    img::Store other(work_ + "/other");
    auto names = img::load_archive(other, work_ + "/saved.tar");
    EXPECT_EQ(names, std::vector<std::string>{"docker.io/husk/multi:latest"});
    EXPECT_EQ(other.resolve("husk/multi").id, store_->resolve("husk/multi").id);
}

}  // namespace
