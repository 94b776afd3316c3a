// Host ports of -p as docker gives them: a port left out (or 0) becomes a free one the
// kernel picks; a port named must not be in use on the host.
#pragma once

#include <vector>

#include "network/ports.h"

namespace husk::network {

// Fills in the host ports left to us and checks the named ones: binds each address
// and port once (and lets go), and [::1] with the port too for one husk-proxy serves
// there (network::proxied; `has_ip6`: the container has an IPv6 address). Throws
// docker's text when one is taken:
//   listen tcp4 127.0.0.1:8080: bind: address already in use
void resolve_host_ports(std::vector<PortMapping>& ports, bool has_ip6);

}  // namespace husk::network
