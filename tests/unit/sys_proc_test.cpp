#include "sys/proc.h"

#include <gtest/gtest.h>
#include <signal.h>
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

TEST(SysProc, SignalsNotDefaultFromStatusText) {
    std::string status =
        "Name:\tsh\nSigQ:\t0/31415\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\n"
        "SigBlk:\t0000000000010000\nSigIgn:\t0000000000001004\nSigCgt:\t0000000180000002\n";
    EXPECT_EQ(husk::sys::parse_signals_not_default(status), uint64_t{0x180001006});
    EXPECT_FALSE(husk::sys::parse_signals_not_default("Name:\tsh\nSigIgn:\t0\n").has_value());
    EXPECT_FALSE(husk::sys::parse_signals_not_default("").has_value());
}

// What the init resets before its execve: an ignored and a caught signal are in the mask,
// a default one is not, and the mask follows a change back to SIG_DFL.
TEST(SysProc, SignalsNotDefaultOfOurselves) {
    struct sigaction ign {
    }, catcher{}, dfl{}, old_usr1{}, old_usr2{};
    ign.sa_handler = SIG_IGN;
    catcher.sa_handler = [](int) {};
    dfl.sa_handler = SIG_DFL;
    ASSERT_EQ(::sigaction(SIGUSR1, &ign, &old_usr1), 0);
    ASSERT_EQ(::sigaction(SIGUSR2, &catcher, &old_usr2), 0);
    uint64_t mask = husk::sys::signals_not_default();
    EXPECT_NE(mask & (uint64_t{1} << (SIGUSR1 - 1)), 0U);
    EXPECT_NE(mask & (uint64_t{1} << (SIGUSR2 - 1)), 0U);
    ::sigaction(SIGUSR1, &dfl, nullptr);
    ::sigaction(SIGUSR2, &dfl, nullptr);
    mask = husk::sys::signals_not_default();
    EXPECT_EQ(mask & (uint64_t{1} << (SIGUSR1 - 1)), 0U);
    EXPECT_EQ(mask & (uint64_t{1} << (SIGUSR2 - 1)), 0U);
    EXPECT_NE(mask, ~uint64_t{0});
    ::sigaction(SIGUSR1, &old_usr1, nullptr);
    ::sigaction(SIGUSR2, &old_usr2, nullptr);
}

}  // namespace
