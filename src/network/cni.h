// A CNI client (spec 1.0): a network configuration list executed plugin by plugin.
// ADD runs the plugins in order, each given the previous one's result (prevResult);
// DEL runs them in reverse order with the cached ADD result, and is meant to succeed
// and clean the host's side even when the network namespace is gone.
#pragma once

#include <string>
#include <vector>

#include "network/ports.h"

namespace husk::network {

struct Attach {
    std::string container_id;
    std::string netns;  // a path: /proc/PID/ns/net or a pinned file
    std::string ifname = "eth0";
    std::vector<PortMapping> ports;  // runtimeConfig.portMappings (host ports resolved)
    std::vector<std::string> ips;    // runtimeConfig.ips: addresses asked for (--ip)
};

// ADD of the whole list; returns the final result (JSON text, to cache for DEL). When a
// plugin fails, what the chain did so far is deleted again and husk::Error is thrown:
//   network "husk": plugin "bridge": failed to allocate for range 0: no IP addresses available
std::string cni_add(const std::string& conflist, const Attach& a);

// DEL of the whole list, every plugin run even when one fails; then throws the first
// failure as cni_add does. `cached_result` may be empty (ADD failed or was lost).
void cni_del(const std::string& conflist, const Attach& a, const std::string& cached_result);

}  // namespace husk::network
