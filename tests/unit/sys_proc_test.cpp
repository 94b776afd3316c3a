#include "sys/proc.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

namespace {

using husk::sys::parse_ns_pids;

TEST(SysProc, NsPidsAfterALongGroupsLine) {
    // NSpid comes after Groups; a process in many groups pushes it past 4 KiB
    std::string status = "Name:\tsh\nUmask:\t0022\nState:\tS (sleeping)\nGroups:\t";
    for (int g = 100000; g < 101000; ++g) status += std::to_string(g) + " ";
    status += "\nNStgid:\t4242\t7\nNSpid:\t4242\t7\nNSpgid:\t4242\t1\n";
    ASSERT_GT(status.size(), 4096U);
    EXPECT_EQ(parse_ns_pids(status), (std::vector<pid_t>{4242, 7}));
}

TEST(SysProc, NsPidsNoneWithoutTheLine) {
    EXPECT_TRUE(parse_ns_pids("Name:\tsh\nNStgid:\t5\n").empty());
    EXPECT_TRUE(parse_ns_pids("").empty());
}

TEST(SysProc, NsPidsOfOurselvesEndWithOurPid) {
    std::vector<pid_t> ids = husk::sys::ns_pids(::getpid());
    ASSERT_FALSE(ids.empty());
    EXPECT_EQ(ids.back(), ::getpid());  // its own namespace's id last
}

}  // namespace
