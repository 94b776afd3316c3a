// The ordering rules of the layer unpack, without a filesystem: where a path shows when
// overlayfs merges the layers (what a hardlink to a lower layer's file finds), and what
// an entry does to what an earlier entry of the same layer left at its name.
#include <sys/stat.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "image/unpack.h"

namespace {

using husk::image::find_in_layers;
using husk::image::LayerHit;
using husk::image::LayerNode;
using husk::image::Replace;
using husk::image::replace_existing;

// Layers as maps of path -> node, top (the layer being unpacked) first.
using Layers = std::vector<std::map<std::string, LayerNode>>;

std::optional<LayerHit> find(const Layers& layers, const std::vector<std::string>& comps) {
    return find_in_layers(comps, layers.size(), [&](size_t layer, const std::string& p) {
        auto it = layers[layer].find(p);
        return it == layers[layer].end() ? LayerNode::absent : it->second;
    });
}

constexpr auto D = LayerNode::dir;
constexpr auto O = LayerNode::opaque_dir;
constexpr auto W = LayerNode::whiteout;
constexpr auto F = LayerNode::other;

TEST(ImageUnpackRules, APathInTheTopLayerShowsFromIt) {
    Layers l = {{{"a", D}, {"a/f", F}}, {{"a", D}, {"a/f", F}}};
    auto hit = find(l, {"a", "f"});
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->layer, 0U);
    EXPECT_EQ(hit->node, F);
}

TEST(ImageUnpackRules, APathMissingAboveShowsFromTheFirstLayerThatHasIt) {
    Layers l = {{{"a", D}}, {{"b", D}}, {{"a", D}, {"a/f", F}}, {{"a", D}, {"a/f", F}}};
    auto hit = find(l, {"a", "f"});
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->layer, 2U);
    EXPECT_EQ(hit->node, F);
}

TEST(ImageUnpackRules, AWhiteoutHidesTheFileInEveryLayerBelow) {
    Layers l = {{{"a", D}, {"a/f", W}}, {{"a", D}, {"a/f", F}}};
    EXPECT_FALSE(find(l, {"a", "f"}));
}

TEST(ImageUnpackRules, AWhiteoutOfAParentDirectoryInAMiddleLayerHidesTheLowest) {
    Layers l = {{}, {{"a", W}}, {{"a", D}, {"a/f", F}}};
    EXPECT_FALSE(find(l, {"a", "f"}));
}

TEST(ImageUnpackRules, AnOpaqueDirectoryHidesTheLayersBelowButNotItsOwnEntries) {
    Layers l = {{}, {{"a", O}, {"a/mine", F}}, {{"a", D}, {"a/f", F}, {"a/mine", F}}};
    EXPECT_FALSE(find(l, {"a", "f"}));
    auto hit = find(l, {"a", "mine"});
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->layer, 1U);
}

TEST(ImageUnpackRules, AFileOrSymlinkOnThePathHidesTheDirectoryBelow) {
    // "a" replaced by a file (or a symlink: not followed across layers) in the middle layer
    Layers l = {{}, {{"a", F}}, {{"a", D}, {"a/f", F}}};
    EXPECT_FALSE(find(l, {"a", "f"}));
}

TEST(ImageUnpackRules, ADirectoryRecreatedAfterAWhiteoutShowsOnlyItsNewEntries) {
    // the layer above deleted "a" and made it again as an opaque directory
    Layers l = {{{"a", O}, {"a/new", F}}, {{"a", D}, {"a/old", F}}};
    EXPECT_FALSE(find(l, {"a", "old"}));
    auto hit = find(l, {"a", "new"});
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->layer, 0U);
}

TEST(ImageUnpackRules, APathInNoLayerIsNotFound) {
    Layers l = {{{"a", D}}, {{"a", D}}};
    EXPECT_FALSE(find(l, {"a", "f"}));
    EXPECT_FALSE(find(l, {"b"}));
}

TEST(ImageUnpackRules, TheDirectoryItselfIsFoundWithItsKind) {
    Layers l = {{}, {{"a", D}, {"a/b", O}}};
    auto hit = find(l, {"a", "b"});
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->layer, 1U);
    EXPECT_EQ(hit->node, O);
}

TEST(ImageUnpackRules, ADirectoryOverADirectoryKeepsItAndMergesTheEntries) {
    EXPECT_EQ(replace_existing(S_IFDIR | 0755, true), Replace::keep_dir);
}

TEST(ImageUnpackRules, AnythingElseOverADirectoryRemovesItsTree) {
    // a file, a symlink, a device or a whiteout
    EXPECT_EQ(replace_existing(S_IFDIR | 0755, false), Replace::remove_tree);
}

TEST(ImageUnpackRules, AnythingOverAFileOrSymlinkUnlinksIt) {
    EXPECT_EQ(replace_existing(S_IFREG | 0644, true), Replace::unlink);
    EXPECT_EQ(replace_existing(S_IFREG | 0644, false), Replace::unlink);
    EXPECT_EQ(replace_existing(S_IFLNK | 0777, true), Replace::unlink);  // not followed
    EXPECT_EQ(replace_existing(S_IFCHR, false), Replace::unlink);        // an earlier whiteout
}

TEST(ImageUnpackRules, NothingThereNothingToDo) {
    EXPECT_EQ(replace_existing(0, true), Replace::nothing);
    EXPECT_EQ(replace_existing(0, false), Replace::nothing);
}

}  // namespace
