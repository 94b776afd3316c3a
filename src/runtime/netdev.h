// linux.netDevices: move host network interfaces into the container's network
// namespace (rtnetlink IFLA_NET_NS_FD), renaming them there when asked and putting
// back their addresses (a move drops them; IPv6 link-local ones the kernel remakes),
// as runc and youki do. Done by the
// parent after the clone and before the init goes on, so the container's process
// finds them in place. A moved device comes back to the host when the namespace
// dies (physical devices) or is destroyed with it (virtual ones), as with runc.
#pragma once

#include <map>
#include <string>

#include "oci/spec.h"

namespace husk::runtime {

// Move each device (host name → config) into the network namespace `netns_fd`.
// Throws naming the field: linux.netDevices["eth1"]: ...
void move_net_devices(const std::map<std::string, oci::NetDevice>& devices, int netns_fd);

}  // namespace husk::runtime
