// Host ports of -p: one left to us becomes a free port; one in use on the host is
// refused with docker's text. Binds sockets on 127.0.0.1 only (no privileges), but for
// the [::1] test, in a network namespace of its own (skipped where none can be made).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "network/hostports.h"
#include "network/netlink.h"
#include "sys/error.h"
#include "sys/fileutil.h"

namespace net = husk::network;

TEST(NetworkHostPorts, LeftToUsBecomesAFreePort) {
    std::vector<net::PortMapping> ports = {{"127.0.0.1", 0, 80, "tcp"},
                                           {"127.0.0.1", 0, 53, "udp"}};
    net::resolve_host_ports(ports, false);
    EXPECT_GT(ports[0].host_port, 0);
    EXPECT_GT(ports[1].host_port, 0);
    EXPECT_EQ(ports[0].container_port, 80);
}

TEST(NetworkHostPorts, APortInUseIsRefused) {
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(s, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(s, 1), 0);
    socklen_t len = sizeof a;
    ASSERT_EQ(::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len), 0);
    uint16_t port = ntohs(a.sin_port);
    std::vector<net::PortMapping> ports = {{"127.0.0.1", port, 80, "tcp"}};
    try {
        net::resolve_host_ports(ports, false);
        ADD_FAILURE() << "accepted a port in use";
    } catch (const husk::Error& e) {
        EXPECT_EQ(std::string(e.what()), "listen tcp4 127.0.0.1:" + std::to_string(port) +
                                             ": bind: address already in use");
    }
    ::close(s);
}

// A port husk-proxy serves on [::1] (-p HOST:CT of a container with an IPv6 address) must be
// free there too, chosen or named. In a network namespace of our own whose ephemeral range
// is one port, taken on [::1] only: that port is not chosen, and naming it is refused.
TEST(NetworkHostPorts, APortOfTheProxyIsFreeOnIpv6Loopback) {
    constexpr uint16_t kPort = 40000;
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        if (::unshare(CLONE_NEWNET) != 0) ::_exit(77);
        try {
            husk::network::nl::Socket rt;
            if (rt.set_up(rt.link_index("lo")) != 0) ::_exit(77);
            husk::sys::write_file("/proc/sys/net/ipv4/ip_local_port_range",
                                  fmt::format("{} {}", kPort, kPort));
        } catch (const husk::Error&) {
            ::_exit(77);
        }
        int s = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        ::setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        sockaddr_in6 a{};
        a.sin6_family = AF_INET6;
        a.sin6_addr = in6addr_loopback;
        a.sin6_port = htons(kPort);
        if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) ::_exit(78);  // no ::1
        ::listen(s, 1);
        int rc = 0;
        std::vector<net::PortMapping> chosen = {{"", 0, 80, "tcp"}};
        try {
            net::resolve_host_ports(chosen, true);
            if (chosen[0].host_port == kPort) rc |= 1;
        } catch (const husk::Error&) {  // the only one is taken: refused
        }
        std::vector<net::PortMapping> named = {{"", kPort, 80, "tcp"}};
        try {
            net::resolve_host_ports(named, true);
            rc |= 2;
        } catch (const husk::Error& e) {
            if (std::string(e.what()) !=
                fmt::format("listen tcp6 [::1]:{}: bind: address already in use", kPort))
                rc |= 4;
        }
        // without an IPv6 address the container has no proxy: [::1] is none of its business
        std::vector<net::PortMapping> v4 = {{"", 0, 80, "tcp"}};
        net::resolve_host_ports(v4, false);
        if (v4[0].host_port != kPort) rc |= 8;
        ::_exit(rc);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "no network namespace of our own (not root?)";
    if (WEXITSTATUS(status) == 78) GTEST_SKIP() << "no IPv6 loopback address in a new namespace";
    EXPECT_EQ(WEXITSTATUS(status) & 1, 0) << "chose a port taken on [::1]";
    EXPECT_EQ(WEXITSTATUS(status) & 2, 0) << "accepted a named port taken on [::1]";
    EXPECT_EQ(WEXITSTATUS(status) & 4, 0) << "not docker's text for a port taken on [::1]";
    EXPECT_EQ(WEXITSTATUS(status) & 8, 0) << "did not choose the one free port";
}
