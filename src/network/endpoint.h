// A container on husk's bridge network: connect() pins its network namespace and
// runs the CNI ADD; disconnect() runs the DEL and lets the namespace go. What
// disconnect() needs is all in the Endpoint, which the caller keeps (as JSON) while
// the container is connected.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "network/conflist.h"
#include "network/ports.h"
#include "network/result.h"

namespace husk::network {

struct Endpoint {
    std::string container_id;
    std::string netns_pin;           // the pinned namespace file
    std::vector<PortMapping> ports;  // host ports resolved
    std::string conflist;            // the configuration ADD ran with, for the DEL
    std::string result;              // the CNI ADD result, for the DEL
    std::string ifname = "eth0";     // in the container
    std::vector<std::string> ips;    // addresses asked for (--ip), for the DEL as the ADD
    Address address;
};

// Connects the network namespace of `pid`, publishing `ports` (host ports already
// resolved: resolve_host_ports, which the caller needs to reserve them). On failure nothing is left
// (no pin, no veth, no rules, no address lease) and husk::Error says which plugin failed.
// `ifname`: the interface in the container; `ips`: addresses asked for ("10.67.0.9/24").
Endpoint connect(const Network& net, const std::string& container_id, pid_t pid,
                 const std::string& netns_pin, std::vector<PortMapping> ports,
                 const std::string& ifname = "eth0", const std::vector<std::string>& ips = {});

// Undoes connect(): DEL with the configuration ADD ran with (whether or not the
// namespace still has processes), unpin. Throws after doing all it can when a plugin
// fails.
void disconnect(const Endpoint& ep);

// The endpoint as JSON text and back (kept in the container's directory).
std::string to_json(const Endpoint& ep);
Endpoint endpoint_from_json(const std::string& text);

}  // namespace husk::network
