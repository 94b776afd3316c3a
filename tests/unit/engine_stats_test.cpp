// husk stats' arithmetic: network totals from /proc/PID/net/dev, docker's CPU %.
#include <gtest/gtest.h>

#include "engine/stats.h"

using namespace husk::engine;

TEST(EngineStats, NetDevTotalsSkipLoopback) {
    std::string text =
        "Inter-|   Receive                                                |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets "
        "errs drop fifo colls carrier compressed\n"
        "    lo:    5000      50    0    0    0     0          0         0     5000      50    "
        "0    0    0     0       0          0\n"
        "  eth0:    1200      10    0    0    0     0          0         0      648       6    "
        "0    0    0     0       0          0\n"
        "  eth1:      10       1    0    0    0     0          0         0       20       1    "
        "0    0    0     0       0          0\n";
    auto [rx, tx] = net_dev_totals(text);
    EXPECT_EQ(rx, 1210u);
    EXPECT_EQ(tx, 668u);
    EXPECT_EQ(net_dev_totals("").first, 0u);
}

TEST(EngineStats, CpuPercentIsCpuTimeOverWallTime) {
    StatsSample a, b;
    a.running = b.running = true;
    b.at = a.at + std::chrono::seconds(1);
    a.cpu_ns = 1'000'000'000;
    b.cpu_ns = 1'500'000'000;  // half a CPU for a second
    EXPECT_NEAR(cpu_percent(a, b), 50.0, 1e-9);
    b.cpu_ns = 3'000'000'000;  // two CPUs busy
    EXPECT_NEAR(cpu_percent(a, b), 200.0, 1e-9);
    b.running = false;  // stopped: docker shows 0
    EXPECT_EQ(cpu_percent(a, b), 0.0);
}
