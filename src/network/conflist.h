// husk's CNI network: its configuration list (CNI spec 1.0 "conflist") and the
// per-plugin configuration a runtime hands each plugin on stdin.
#pragma once

#include <string>
#include <vector>

#include "network/ports.h"

namespace husk::network {

// The bridge every `husk run --network bridge` container joins. The subnet stays clear
// of podman's 10.88.0.0/16 and docker's 172.17.0.0/16. host-local keeps its leases in
// <ipam_dir>/<name>/ (one file per address, holding the container id): shared by every
// husk data root on the host, so two of them never hand out the same address.
struct Network {
    std::string name = "husk";
    std::string bridge = "husk0";
    std::string subnet = "10.66.0.0/16";
    std::string gateway = "10.66.0.1";
    std::string ipam_dir = "/var/lib/cni/networks";
    // user-defined networks (husk network create)
    bool internal = false;  // no default route, no masquerade, no forwarding out
    std::string subnet6{};  // "" or an IPv6 subnet (--ipv6)
    std::string gateway6{};
};

// The conflist: bridge (gateway, host-local IPAM with the "ips" capability for --ip, a
// default route unless internal, an IPv6 range with subnet6; outbound NAT is
// masquerade.h's one rule for the subnet), portmap
// (capability portMappings, SNAT so 127.0.0.1 works) and firewall (lets the
// container's traffic through the FORWARD chain).
std::string conflist(const Network& net);

// Users' own CNI networks (`--network cni:NAME`): the configuration list named NAME in
// the directory $NETCONFPATH names (as cnitool reads it), else /etc/cni/net.d: the first
// *.conflist, *.conf or *.json file, in name order, whose "name" is NAME (a single
// plugin's .conf becomes a list of one). Throws husk::Error when there is none:
//   network cni:NAME not found: no CNI configuration named NAME in /etc/cni/net.d
std::string find_conflist(const std::string& name);

// "cni:NAME" → "NAME"; "" for any other network name.
std::string cni_network_name(const std::string& network);

// The types of the plugins of `conflist`, in chain order.
std::vector<std::string> plugin_types(const std::string& conflist);

// What plugin `index` reads on stdin: its own object plus the list's name and
// cniVersion, runtimeConfig for the capabilities it declares (portMappings; ips: the
// addresses asked for, "10.67.0.9/24"), and prevResult unless `prev_result` is empty.
std::string plugin_config(const std::string& conflist, size_t index,
                          const std::vector<PortMapping>& ports, const std::string& prev_result,
                          const std::vector<std::string>& ips = {});

}  // namespace husk::network
