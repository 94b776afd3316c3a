// A container's link to a bridge: a veth pair, the host end on the bridge (hairpin on,
// so a container reaches itself through a published port), the other end made in the
// container's network namespace under its final name, with its addresses and, unless
// the network is internal, default routes through the gateways.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "network/ipam.h"
#include "network/netlink.h"

namespace husk::network {

// The host end's name, the same for the same container, network and interface
// ("veth" and 8 hex digits), so a run killed half-way leaves one that rm finds.
std::string host_veth_name(const std::string& container_id, const std::string& network,
                           const std::string& ifname);

// The MAC of the container's end: 02:42 and the IPv4 address, as docker makes it.
std::string mac_of(const std::string& ipv4);
// The same as bytes: 02:42 then the four bytes of `ipv4` (a container's by its address,
// a bridge's by its gateway's, so no two on a network are alike).
std::array<uint8_t, 6> mac_bytes(const std::string& ipv4);

// Makes the pair and configures the container's end (leases[0] is IPv4, leases[1]
// IPv6 when there is one). A host end left by a killed run is replaced.
void add_veth(nl::Socket& host, unsigned bridge, const std::string& host_name,
              const std::string& netns_path, const std::string& ifname,
              const std::vector<Lease>& leases, bool default_routes);

// Deletes the host end (and with it the container's); no error when it is gone.
void delete_veth(nl::Socket& host, const std::string& host_name);

}  // namespace husk::network
