// Host ports of -p: one left to us becomes a free port; one in use on the host is
// refused with docker's text. Binds sockets on 127.0.0.1 only (no privileges).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "network/hostports.h"
#include "sys/error.h"

namespace net = husk::network;

TEST(NetworkHostPorts, LeftToUsBecomesAFreePort) {
    std::vector<net::PortMapping> ports = {{"127.0.0.1", 0, 80, "tcp"},
                                           {"127.0.0.1", 0, 53, "udp"}};
    net::resolve_host_ports(ports);
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
        net::resolve_host_ports(ports);
        ADD_FAILURE() << "accepted a port in use";
    } catch (const husk::Error& e) {
        EXPECT_EQ(std::string(e.what()), "listen tcp4 127.0.0.1:" + std::to_string(port) +
                                             ": bind: address already in use");
    }
    ::close(s);
}
