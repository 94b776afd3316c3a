// The bridge of a husk network: created at its first container, with the gateway
// addresses, up; forwarding on, and route_localnet on it so the host's 127.0.0.1 reaches
// published ports (as the CNI portmap plugin sets it). Kept when containers leave;
// `husk network rm` deletes it (isolation.h: delete_bridge).
#pragma once

#include "network/conflist.h"
#include "network/netlink.h"

namespace husk::network {

// The index of net.bridge, made and configured as above when missing. Its addresses
// and its up state are set each time (a run killed while making it left it half-made).
unsigned ensure_bridge(nl::Socket& host, const Network& net);

}  // namespace husk::network
