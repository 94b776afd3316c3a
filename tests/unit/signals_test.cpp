#include "runtime/signals.h"

#include <gtest/gtest.h>
#include <signal.h>

#include "sys/error.h"

using husk::runtime::parse_signal;

TEST(Signals, NumbersNamesAndSigPrefix) {
    EXPECT_EQ(parse_signal("9"), SIGKILL);
    EXPECT_EQ(parse_signal("15"), SIGTERM);
    EXPECT_EQ(parse_signal("KILL"), SIGKILL);
    EXPECT_EQ(parse_signal("SIGKILL"), SIGKILL);
    EXPECT_EQ(parse_signal("sigterm"), SIGTERM);
    EXPECT_EQ(parse_signal("WINCH"), SIGWINCH);
}

TEST(Signals, Realtime) {
    EXPECT_EQ(parse_signal("SIGRTMIN"), SIGRTMIN);
    EXPECT_EQ(parse_signal("SIGRTMIN+3"), SIGRTMIN + 3);
    EXPECT_EQ(parse_signal("RTMAX-1"), SIGRTMAX - 1);
    EXPECT_THROW(parse_signal("SIGRTMIN+99"), husk::Error);
}

TEST(Signals, UnknownIsAnErrorNamingIt) {
    try {
        parse_signal("SIGFOO");
        FAIL();
    } catch (const husk::Error& e) {
        EXPECT_STREQ(e.what(), "unknown signal \"SIGFOO\"");
    }
    EXPECT_THROW(parse_signal("0"), husk::Error);
    EXPECT_THROW(parse_signal("100"), husk::Error);
    EXPECT_THROW(parse_signal(""), husk::Error);
}
