// Published ports the kernel cannot carry through NAT: those on the host's IPv6 loopback
// address. The kernel never routes a packet of ::1 out of the host (nor takes one in from
// a bridge), so `-p [::1]:8080:80`, and `-p 8080:80` of a container with an IPv6 address
// reached as [::1]:8080, go through husk-proxy (network/proxy/main.cpp), one per endpoint
// that has such ports, under /run/husk-proxy/<container id>.<ifname>/ (network/daemon.h).
#pragma once

#include <string>
#include <vector>

#include "network/ports.h"

namespace husk::network {

// Does `p` go through husk-proxy: on [::1], or on every address of a container with an
// IPv6 address (`has_ip6`: reached as [::1] too)?
bool proxied(const PortMapping& p, bool has_ip6);

// husk-proxy's argument groups (PROTO LISTEN_IP LISTEN_PORT TARGET_IP TARGET_PORT) for the
// ports of a container at `ip` and `ip6` ("" without one): [::1] of a port on every
// address (with `ip6`) or on ::1 (to `ip6`, else to `ip`). Empty: no proxy needed.
std::vector<std::string> proxy_args(const std::vector<PortMapping>& ports, const std::string& ip,
                                    const std::string& ip6);

// Starts `helper` (husk-proxy) for the endpoint unless none of its ports needs it.
// Throws, nothing left running: publish [::1]:8080: bind "[::1]:8080/tcp": ...
void start_proxy(const std::string& helper, const std::string& container_id,
                 const std::string& ifname, const std::vector<PortMapping>& ports,
                 const std::string& ip, const std::string& ip6);

// Stops the endpoint's proxy if one runs.
void stop_proxy(const std::string& container_id, const std::string& ifname);

}  // namespace husk::network
