// IdShift: container ids to host ids and back, one range or several.
#include <gtest/gtest.h>

#include "image/idshift.h"

namespace img = husk::image;

TEST(IdShift, OneRangeFromUidGidAndSize) {
    img::IdShift s{100000, 200000, 65536, {}, {}};
    EXPECT_EQ(s.host_uid(0), 100000u);
    EXPECT_EQ(s.host_gid(0), 200000u);
    EXPECT_EQ(s.host_uid(65535), 165535u);
    EXPECT_EQ(s.host_uid(65536), 65534u) << "unmapped ids are nobody";
    ASSERT_EQ(s.uids().size(), 1u);
    EXPECT_EQ(s.uids()[0].host_id, 100000u);
}

TEST(IdShift, SeveralRangesReplaceTheSingleOne) {
    img::IdShift s{0, 0, 0, {{0, 300000, 1000}, {1000, 310000, 64536}}, {{0, 400000, 65536}}};
    EXPECT_EQ(s.host_uid(0), 300000u);
    EXPECT_EQ(s.host_uid(999), 300999u);
    EXPECT_EQ(s.host_uid(1000), 310000u);
    EXPECT_EQ(s.host_uid(65535), 374535u);
    EXPECT_EQ(s.host_uid(65536), 65534u);
    EXPECT_EQ(s.host_gid(1000), 401000u);
    EXPECT_EQ(s.uids().size(), 2u);
    EXPECT_EQ(s.gids().size(), 1u);
}

// A user's container: root is the user, 1..65536 the user's range; back to the container's
// ids (export's tar, cp's stream), anything else nobody.
TEST(IdShift, HostIdsBackToTheContainers) {
    img::IdShift s{0, 0, 0, {{0, 1001, 1}, {1, 500000, 65536}}, {{0, 1002, 1}, {1, 600000, 65536}}};
    EXPECT_EQ(s.container_uid(1001), 0u);
    EXPECT_EQ(s.container_uid(500999), 1000u);
    EXPECT_EQ(s.container_gid(600999), 1000u);
    EXPECT_EQ(s.container_gid(1002), 0u);
    EXPECT_EQ(s.container_uid(0), 65534u) << "the host's root is nobody in the container";
    EXPECT_EQ(s.container_uid(565536), 65534u);
    EXPECT_EQ(img::container_id_of({}, 1000), 65534u);
}
