// A layer written from an upper dir (husk commit, build steps): overlayfs' own xattrs,
// of root's overlay (trusted.overlay.*) and of a user's (user.overlay.*, userxattr), stay
// out of it, an opaque directory of either kind becomes `.wh..wh..opq`, and a rootless
// unpack's owner record (user.containers.override_stat) gives the entry its owner and is
// not written itself.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <map>
#include <string>

#include <fmt/format.h>

#include "image/layer_diff.h"
#include "image/unpack.h"
#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/scope_guard.h"

namespace img = husk::image;

namespace {

struct Entry {
    uint32_t uid = 0, gid = 0;
    mode_t mode = 0;
    std::map<std::string, std::string> xattrs;
};

// The entries of an uncompressed layer tar, by path.
std::map<std::string, Entry> read_layer(const std::string& path) {
    std::map<std::string, Entry> out;
    archive* a = archive_read_new();
    husk::sys::ScopeGuard free_a([&]() noexcept { archive_read_free(a); });
    archive_read_support_format_tar(a);
    EXPECT_EQ(archive_read_open_filename(a, path.c_str(), 1 << 16), ARCHIVE_OK)
        << archive_error_string(a);
    archive_entry* e = nullptr;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        std::string name = archive_entry_pathname(e);
        if (name.size() > 1 && name.back() == '/') name.pop_back();  // a directory
        Entry& x = out[name];
        x.uid = static_cast<uint32_t>(archive_entry_uid(e));
        x.gid = static_cast<uint32_t>(archive_entry_gid(e));
        x.mode = archive_entry_mode(e);
        const char* n = nullptr;
        const void* v = nullptr;
        size_t s = 0;
        archive_entry_xattr_reset(e);
        while (archive_entry_xattr_next(e, &n, &v, &s) == ARCHIVE_OK)
            x.xattrs[n] = std::string(static_cast<const char*>(v), s);
    }
    return out;
}

class LayerDiffTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/layer-diff-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        work_ = tmpl;
        upper_ = work_ + "/upper";
        husk::sys::mkdir_all(upper_, 0755);
        // user.* xattrs on the file system the test makes its trees on
        std::string probe = upper_ + "/.probe";
        husk::sys::write_file(probe, "");
        if (::setxattr(probe.c_str(), "user.probe", "1", 1, 0) != 0)
            skip_ = fmt::format("the file system of /tmp takes no user.* xattrs: {}",
                                husk::errno_name(errno));
        ::unlink(probe.c_str());
    }
    void TearDown() override {
        if (!work_.empty()) husk::sys::remove_all(work_);
    }

    std::string file(const std::string& rel, const std::string& data, mode_t mode) {
        std::string p = upper_ + "/" + rel;
        husk::sys::write_file(p, data);
        EXPECT_EQ(::chmod(p.c_str(), mode), 0);
        return p;
    }
    static void set(const std::string& p, const char* name, const std::string& value) {
        ASSERT_EQ(::setxattr(p.c_str(), name, value.data(), value.size(), 0), 0)
            << name << " on " << p << ": " << husk::errno_name(errno);
    }
    // The upper dir as a user's container wrote it: the user is the container's root.
    img::ChangeFilter as_user() const {
        img::ChangeFilter f;
        f.uid_maps = {{0, ::geteuid(), 1}};
        f.gid_maps = {{0, ::getegid(), 1}};
        return f;
    }
    std::map<std::string, Entry> write(const img::ChangeFilter& f) {
        std::string out = fmt::format("{}/layer{}.tar", work_, n_++);
        img::LayerWriteOptions o;
        o.compression = husk::oci::image::Compression::none;
        img::write_layer(upper_, out, o, f);
        return read_layer(out);
    }

    std::string work_, upper_, skip_;
    int n_ = 0;
};

TEST_F(LayerDiffTest, UserxattrOverlayXattrsStayOutAndAnOpaqueDirIsTheOciMarker) {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    husk::sys::mkdir_all(upper_ + "/opq", 0755);
    set(upper_ + "/opq", "user.overlay.opaque", "y");
    set(upper_ + "/opq", "user.kept", "dir");
    std::string f = file("opq/moved", "data", 0644);
    set(f, "user.overlay.redirect", "/elsewhere");
    set(f, "user.overlay.origin", std::string("\0\xfb\x21", 3));
    set(f, "user.overlay.metacopy", "");
    set(f, "user.kept", "file");
    husk::sys::mkdir_all(upper_ + "/plain", 0755);
    set(upper_ + "/plain", "user.overlay.impure", "y");

    auto layer = write(as_user());
    ASSERT_TRUE(layer.contains("opq")) << "the opaque directory itself";
    ASSERT_TRUE(layer.contains("opq/.wh..wh..opq")) << "user.overlay.opaque is the OCI marker";
    EXPECT_FALSE(layer.contains("plain/.wh..wh..opq")) << "impure is not opaque";
    for (auto& [path, e] : layer)
        for (auto& [name, value] : e.xattrs)
            EXPECT_FALSE(img::is_overlay_xattr(name)) << path << " carries " << name;
    EXPECT_EQ(layer["opq"].xattrs["user.kept"], "dir");
    EXPECT_EQ(layer["opq/moved"].xattrs["user.kept"], "file");
}

TEST_F(LayerDiffTest, TrustedOverlayOpaqueDirIsTheOciMarkerToo) {
    husk::sys::mkdir_all(upper_ + "/opq", 0755);
    if (::setxattr((upper_ + "/opq").c_str(), "trusted.overlay.opaque", "y", 1, 0) != 0)
        GTEST_SKIP() << "trusted.overlay.opaque needs CAP_SYS_ADMIN and a file system with "
                        "trusted xattrs: "
                     << husk::errno_name(errno);
    auto layer = write({});
    EXPECT_TRUE(layer.contains("opq/.wh..wh..opq"));
    EXPECT_FALSE(layer["opq"].xattrs.contains("trusted.overlay.opaque"));
}

TEST_F(LayerDiffTest, OverrideStatGivesTheEntryItsOwnerAndIsNotWritten) {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    std::string f = file("owned", "x", 0640);
    set(f, img::kOverrideStatXattr, "1000:1001:0640");
    husk::sys::mkdir_all(upper_ + "/home", 0750);
    set(upper_ + "/home", img::kOverrideStatXattr, "33:34:0750:dir");  // containers/storage's form
    file("plain", "y", 0644);

    auto layer = write(as_user());
    EXPECT_EQ(layer["owned"].uid, 1000u);
    EXPECT_EQ(layer["owned"].gid, 1001u);
    EXPECT_EQ(layer["owned"].mode, static_cast<mode_t>(S_IFREG | 0640));
    EXPECT_EQ(layer["home"].uid, 33u);
    EXPECT_EQ(layer["home"].gid, 34u);
    EXPECT_EQ(layer["home"].mode, static_cast<mode_t>(S_IFDIR | 0750));
    EXPECT_EQ(layer["plain"].uid, 0u) << "the user is the container's root";
    for (auto& [path, e] : layer) EXPECT_FALSE(e.xattrs.contains(img::kOverrideStatXattr)) << path;
}

// The record says what the unpack could not do; what the container did since is the file's
// own: a chmod changes the mode alone (the kernel's overlayfs does not update the record),
// and an owner the container gave the file (a user with a range of ids) stays.
TEST_F(LayerDiffTest, WhatTheContainerChangedSinceTheRecordWins) {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    std::string f = file("chmodded", "x", 0600);
    set(f, img::kOverrideStatXattr, "1000:1000:0644");
    auto layer = write(as_user());
    EXPECT_EQ(layer["chmodded"].mode, static_cast<mode_t>(S_IFREG | 0600));
    EXPECT_EQ(layer["chmodded"].uid, 1000u);

    if (::geteuid() != 0) GTEST_SKIP() << "giving a file another owner needs root";
    std::string g = file("chowned", "y", 0644);
    set(g, img::kOverrideStatXattr, "1000:1000:0644");
    ASSERT_EQ(::chown(g.c_str(), 100005, 100006), 0) << husk::errno_name(errno);
    img::ChangeFilter ranged = as_user();
    ranged.uid_maps.push_back({1, 100001, 65535});
    ranged.gid_maps.push_back({1, 100001, 65535});
    layer = write(ranged);
    EXPECT_EQ(layer["chowned"].uid, 5u);
    EXPECT_EQ(layer["chowned"].gid, 6u);
    EXPECT_EQ(layer["chmodded"].uid, 1000u);
}

TEST_F(LayerDiffTest, AMalformedRecordIsIgnoredNotAFailedCommit) {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    // the container wrote it (any user.* xattr is its to write): the file's own owner stands
    std::string f = file("bad", "x", 0644);
    set(f, img::kOverrideStatXattr, "root:0:0644");
    auto layer = write(as_user());
    ASSERT_TRUE(layer.contains("bad"));
    EXPECT_EQ(layer["bad"].uid, 0u);
    EXPECT_FALSE(layer["bad"].xattrs.contains(img::kOverrideStatXattr));
}

TEST(OverrideStat, Parses) {
    auto o = img::parse_override_stat("1000:1001:0640");
    ASSERT_TRUE(o);
    EXPECT_EQ(o->uid, 1000u);
    EXPECT_EQ(o->gid, 1001u);
    EXPECT_EQ(o->perm, 0640u);
    o = img::parse_override_stat("0:0:4755:file");
    ASSERT_TRUE(o);
    EXPECT_EQ(o->perm, 04755u);
    for (const char* bad : {"", "1:2", "1:2:", "a:2:0644", "1:2:0989", "1:2:017777", "-1:2:0644",
                            "1::0644", "1:2:0644x"})
        EXPECT_FALSE(img::parse_override_stat(bad)) << bad;
}

}  // namespace
