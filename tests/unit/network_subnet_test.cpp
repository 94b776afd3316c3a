// Subnets of user-defined networks: CIDR text, overlap, the automatic choice clear of
// what is taken, and the conflist of an internal or IPv6 network.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include <nlohmann/json.hpp>

#include "network/conflist.h"
#include "network/dns/names.h"
#include "network/ports.h"
#include "network/subnet.h"
#include "sys/error.h"

namespace net = husk::network;

TEST(NetworkSubnet, ParsesAndPrintsBothFamilies) {
    EXPECT_EQ(net::to_string(net::parse_cidr("10.67.3.0/24")), "10.67.3.0/24");
    EXPECT_EQ(net::to_string(net::parse_cidr("fd00:1::/64")), "fd00:1::/64");
    EXPECT_EQ(net::parse_cidr("10.0.0.0/8").family, 4);
    EXPECT_EQ(net::parse_cidr("fd00::/8").family, 6);
}

TEST(NetworkSubnet, RefusesBadTextAndHostBitsWithDockersWords) {
    for (const char* bad :
         {"nonsense", "10.1.2.0", "10.1.2.0/33", "10.1.2.0/x", "/24", "fd00::/129"})
        EXPECT_THROW(net::parse_cidr(bad), husk::Error) << bad;
    try {
        net::parse_cidr("10.1.2.3/24");
        FAIL();
    } catch (const husk::Error& e) {
        EXPECT_STREQ(e.what(), "invalid subnet 10.1.2.3/24: it should be 10.1.2.0/24");
    }
}

TEST(NetworkSubnet, OverlapAndContainment) {
    auto a = net::parse_cidr("10.67.0.0/16"), b = net::parse_cidr("10.67.5.0/24"),
         c = net::parse_cidr("10.68.0.0/24");
    EXPECT_TRUE(net::overlaps(a, b));
    EXPECT_TRUE(net::overlaps(b, a));
    EXPECT_FALSE(net::overlaps(a, c));
    EXPECT_FALSE(net::overlaps(a, net::parse_cidr("fd00::/8")));
    EXPECT_TRUE(net::contains(b, net::parse_ip("10.67.5.200")));
    EXPECT_FALSE(net::contains(b, net::parse_ip("10.67.6.1")));
}

TEST(NetworkSubnet, NthAddressCarriesAcrossBytes) {
    EXPECT_EQ(net::nth_address(net::parse_cidr("10.67.3.0/24"), 1), "10.67.3.1");
    EXPECT_EQ(net::nth_address(net::parse_cidr("10.67.0.0/16"), 256 + 2), "10.67.1.2");
    EXPECT_EQ(net::nth_address(net::parse_cidr("fd00:1::/64"), 1), "fd00:1::1");
}

TEST(NetworkSubnet, PickSkipsEverythingTaken) {
    EXPECT_EQ(net::to_string(net::pick_subnet({})), "10.67.0.0/24");
    std::vector<net::Cidr> taken = {net::parse_cidr("10.67.0.0/24"),
                                    net::parse_cidr("10.67.1.0/25"),
                                    net::parse_cidr("10.67.2.128/25")};
    EXPECT_EQ(net::to_string(net::pick_subnet(taken)), "10.67.3.0/24");
    // a route that covers the whole pool start moves the choice past it
    EXPECT_EQ(net::to_string(net::pick_subnet({net::parse_cidr("10.64.0.0/13")})), "10.72.0.0/24");
    EXPECT_THROW(net::pick_subnet({net::parse_cidr("10.0.0.0/8")}), husk::Error);
}

TEST(NetworkSubnet, InternalHasNoDefaultRouteAndIpv6GetsItsRange) {
    net::Network n;
    n.internal = true;
    n.subnet6 = "fd00:1::/64";
    n.gateway6 = "fd00:1::1";
    auto j = nlohmann::json::parse(net::conflist(n));
    auto& ipam = j["plugins"][0]["ipam"];
    EXPECT_TRUE(ipam["routes"].empty());
    EXPECT_EQ(ipam["ranges"].size(), 2u);
    EXPECT_EQ(ipam["ranges"][1][0]["subnet"], "fd00:1::/64");
    n.internal = false;
    auto routes = nlohmann::json::parse(net::conflist(n))["plugins"][0]["ipam"]["routes"];
    EXPECT_EQ(routes.size(), 2u);
}

TEST(NetworkSubnet, AskedForAddressGoesToTheBridgePluginAsRuntimeConfigIps) {
    std::string list = net::conflist({});
    auto bridge = nlohmann::json::parse(net::plugin_config(list, 0, {}, "", {"10.66.0.9/16"}));
    EXPECT_EQ(bridge["runtimeConfig"]["ips"], nlohmann::json::array({"10.66.0.9/16"}));
    auto portmap = nlohmann::json::parse(net::plugin_config(list, 1, {}, "{}", {"10.66.0.9/16"}));
    EXPECT_FALSE(portmap["runtimeConfig"].contains("ips"));
}

// One parser of address text and one builder of socket addresses for every part of the
// network code (ports, names, the DNS responder, husk-proxy, host ports, netlink, nftables).
TEST(NetworkSubnet, AddressTextAndSocketAddresses) {
    EXPECT_FALSE(net::try_parse_ip("10.66.0.300"));
    EXPECT_FALSE(net::try_parse_ip("10.66.0.0/16"));
    EXPECT_FALSE(net::try_parse_ip(""));
    auto v6 = net::try_parse_ip("FD00:0::5");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->family, 6);
    EXPECT_EQ(net::address_text(*v6), "fd00::5");

    auto a4 = net::socket_address(net::parse_ip("127.0.0.1"), 8080);
    EXPECT_EQ(a4.family(), AF_INET);
    EXPECT_EQ(a4.len, sizeof(sockaddr_in));
    EXPECT_EQ(a4.port(), 8080);
    sockaddr_in in{};
    std::memcpy(&in, &a4.storage, sizeof in);
    EXPECT_EQ(ntohl(in.sin_addr.s_addr), INADDR_LOOPBACK);
    EXPECT_EQ(ntohs(in.sin_port), 8080);

    auto a6 = net::socket_address(net::parse_ip("::1"), 53);
    EXPECT_EQ(a6.family(), AF_INET6);
    EXPECT_EQ(a6.len, sizeof(sockaddr_in6));
    EXPECT_EQ(a6.port(), 53);
    sockaddr_in6 in6{};
    std::memcpy(&in6, &a6.storage, sizeof in6);
    EXPECT_TRUE(IN6_IS_ADDR_LOOPBACK(&in6.sin6_addr));
}

// -p's bracketed IPv6 address and names' addresses go through the same parser: the
// shortest form, and an IPv4 address in brackets is none.
TEST(NetworkSubnet, PublishAndNamesParseAddressesAlike) {
    EXPECT_EQ(net::parse_publish("[FD00:0:0::1]:8080:80").host_ip, "fd00::1");
    EXPECT_THROW(net::parse_publish("[127.0.0.1]:8080:80"), husk::Error);
    EXPECT_THROW(net::parse_publish("10.0.0.256:8080:80"), husk::Error);
    EXPECT_EQ(net::dns::reverse_name("10.66.0.5"), "5.0.66.10.in-addr.arpa");
    EXPECT_EQ(net::dns::reverse_name("not-an-address"), "");
}
