// Layer entry paths and whiteout rules (OCI image spec, layer changesets).
#include <gtest/gtest.h>

#include "image/unpack.h"

using husk::image::classify_whiteout;
using husk::image::clean_entry_path;
using husk::image::WhiteoutKind;

TEST(ImageWhiteout, CleanEntryPathStaysInsideTheRoot) {
    EXPECT_EQ(clean_entry_path("./etc/passwd"), "etc/passwd");
    EXPECT_EQ(clean_entry_path("/etc/passwd"), "etc/passwd");
    EXPECT_EQ(clean_entry_path("etc//x/./y/"), "etc/x/y");
    EXPECT_EQ(clean_entry_path("../../../etc/shadow"), "etc/shadow");
    EXPECT_EQ(clean_entry_path("a/../../b"), "b");
    EXPECT_EQ(clean_entry_path("a/b/../c"), "a/c");
    EXPECT_EQ(clean_entry_path("."), "");
    EXPECT_EQ(clean_entry_path("./"), "");
    EXPECT_EQ(clean_entry_path(".."), "");
    EXPECT_EQ(clean_entry_path("..."), "...");
    EXPECT_EQ(clean_entry_path("a/..b"), "a/..b");
}

TEST(ImageWhiteout, Classifies) {
    auto w = classify_whiteout("etc/.wh.passwd");
    EXPECT_EQ(w.kind, WhiteoutKind::whiteout);
    EXPECT_EQ(w.dir, "etc");
    EXPECT_EQ(w.name, "passwd");

    w = classify_whiteout(".wh.gone");
    EXPECT_EQ(w.kind, WhiteoutKind::whiteout);
    EXPECT_EQ(w.dir, "");
    EXPECT_EQ(w.name, "gone");

    w = classify_whiteout("var/lib/.wh..wh..opq");
    EXPECT_EQ(w.kind, WhiteoutKind::opaque);
    EXPECT_EQ(w.dir, "var/lib");

    EXPECT_EQ(classify_whiteout(".wh..wh..opq").kind, WhiteoutKind::opaque);
    EXPECT_EQ(classify_whiteout(".wh..wh.plnk/123").kind, WhiteoutKind::none);  // a dir's child
    EXPECT_EQ(classify_whiteout(".wh..wh.plnk").kind, WhiteoutKind::meta);
    EXPECT_EQ(classify_whiteout("a/.wh..wh.aufs").kind, WhiteoutKind::meta);
    EXPECT_EQ(classify_whiteout("a/.wh.").kind, WhiteoutKind::meta);  // hides nothing
    EXPECT_EQ(classify_whiteout("a/.wh...").kind, WhiteoutKind::meta);
    EXPECT_EQ(classify_whiteout("a/x.wh.y").kind, WhiteoutKind::none);
    EXPECT_EQ(classify_whiteout("a/.whx").kind, WhiteoutKind::none);
    EXPECT_EQ(classify_whiteout("etc/passwd").kind, WhiteoutKind::none);
}
