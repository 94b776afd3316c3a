// A container on a network. husk's own networks (the default bridge and those of
// `husk network create`) are connected in-process: the bridge, a veth pair and the
// addresses through netlink (bridge.h, veth.h), a lease of our own allocator (ipam.h),
// NAT, ports and isolation as elements of husk's nftables table (nft.h). Users' own
// CNI conflists (`--network cni:NAME`), and endpoints a husk of before recorded, go
// through the CNI plugins (cni.h). connect() pins the network namespace first;
// disconnect() undoes everything and lets it go. What disconnect() needs is all in the
// Endpoint, which the caller keeps (as JSON) while the container is connected.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "network/conflist.h"
#include "network/ports.h"
#include "network/result.h"

namespace husk::network {

enum class EndpointKind { native, cni };

struct Endpoint {
    EndpointKind kind = EndpointKind::native;
    std::string container_id;
    std::string netns_pin;           // the pinned namespace file
    std::vector<PortMapping> ports;  // host ports resolved
    Network network;                 // native: the network joined
    std::string host_veth;           // native: the host end of its veth pair
    std::string conflist;            // cni: the configuration ADD ran with, for the DEL
    std::string result;              // cni: the ADD result, for the DEL
    std::string ifname = "eth0";     // in the container
    std::vector<std::string> ips;    // addresses asked for (--ip), for the DEL as the ADD
    Address address;
    std::string ip6;  // native: its IPv6 address, on a network with an IPv6 subnet
    // native: husk-proxy, for ports on [::1] (network/portproxy.h); set by the caller
    // before connect(), not kept
    std::string proxy_helper;
};

// What connect() records before it starts (the caller writes it down first, so that a
// run killed half-way leaves what disconnect() undoes).
Endpoint reserve(const Network& net, const std::string& container_id, const std::string& netns_pin,
                 std::vector<PortMapping> ports, const std::string& ifname = "eth0",
                 const std::vector<std::string>& ips = {});
// The same for a users' CNI conflist (its text).
Endpoint reserve_cni(const std::string& conflist, const std::string& container_id,
                     const std::string& netns_pin, std::vector<PortMapping> ports,
                     const std::string& ifname = "eth0");

// Connects the network namespace of `pid` as `reserved` says (reserve(): the network,
// the pin, `ports` with host ports already resolved by resolve_host_ports, which the
// caller needs to reserve them; `ifname`: the interface in the container; `ips`:
// addresses asked for, "10.67.0.9/24"). On failure nothing is left (no pin, no veth, no
// rules, no address lease) and husk::Error says what failed (for CNI: which plugin).
Endpoint connect(Endpoint reserved, pid_t pid);

// Undoes connect() (whether or not the namespace still has processes, and for a
// reservation connect() never finished), unpins. Throws after doing all it can when a
// step fails.
void disconnect(const Endpoint& ep);

// The endpoint as JSON text and back (kept in the container's directory).
std::string to_json(const Endpoint& ep);
Endpoint endpoint_from_json(const std::string& text);

}  // namespace husk::network
