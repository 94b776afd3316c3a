// husk's own nftables table (`inet husk`, through libnftables): outbound NAT of each
// subnet, published ports, isolation between networks and `--internal`, as rules made
// once with the table and driven by sets and maps, so that connecting or disconnecting a
// container is at most one transaction of element changes:
//   map from_bridge { "husk<id>" : jump from-husk<id> }  its traffic to other husk bridges
//                                                         (and, internal, anywhere) dropped
//   map to_internal { "husk<id>" : jump to-husk<id> }    internal: nothing comes in
//   set masq4/6     { 10.66.0.0/16, ... }                 masqueraded going anywhere else
//   map ports       { tcp . 8080 : 10.66.0.5 . 80 }                 -p 8080:80
//   map ports_ip    { 127.0.0.1 . tcp . 8080 : 10.66.0.5 . 80 }     -p 127.0.0.1:8080:80
//   map ports6, ports6_ip: the same to containers' IPv6 addresses  -p 8080:80, -p [fd00::1]:8080:80
// The chains: dnat through the maps for local destinations (prerouting and output, so
// the host reaches its own published ports), masquerade of the subnets and of
// localhost or hairpin traffic to a published port, and the forward verdict maps.
#pragma once

#include <string>
#include <vector>

#include "network/conflist.h"
#include "network/ports.h"

namespace husk::network {

// What a container's connect adds: its network's elements (idempotent) and its ports
// to `ip` (the container's IPv4 address) and `ip6` (its IPv6 one, "" when it has none):
// an IPv4 host address's to `ip`, an IPv6 one's to `ip6`, every address's to both.
// Creates the table at first use (and adds the IPv6 maps to one of an older husk).
// Throws husk::Error with nftables' message, or when an IPv6 host address has no `ip6`.
void nft_connect(const Network& net, const std::string& ip, const std::string& ip6,
                 const std::vector<PortMapping>& ports);

// Throws unless `net` can carry `ports`: an IPv6 host address (but ::1, husk-proxy's) needs
// a network with IPv6:
//   publish [fd00::1]:80:80/tcp: network NAME has no IPv6 (husk network create --ipv6)
void check_ipv6_ports(const Network& net, const std::vector<PortMapping>& ports);

// Removes the ports of a container at `ip` and `ip6` (those that are still its own).
void nft_disconnect(const std::string& ip, const std::string& ip6,
                    const std::vector<PortMapping>& ports);

// Removes a network's elements (husk network rm).
void nft_remove_network(const Network& net);

// The table's name in `nft list table` form: "inet husk".
inline constexpr const char* kNftTable = "inet husk";

}  // namespace husk::network
