// IdShift: container ids to host ids, one range or several.
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
