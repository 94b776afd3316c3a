// Isolation as a husk of the CNI path kept it (husk's own is nftables' now, network/nft.h;
// these rules are only removed): containers on different husk networks could not reach
// each other, and an internal network nothing beyond its bridge, through filter rules in
// the CNI firewall plugin's admin chain (CNI-ADMIN, run first in CNI-FORWARD), in docker's
// two stages:
//   HUSK-ISOLATION:    -i BR ! -o BR -j HUSK-ISOLATION-2   (for every husk bridge)
//                      -i BR ! -o BR -j DROP, -o BR ! -i BR -j DROP   (internal ones)
//   HUSK-ISOLATION-2:  -o husk+ -j DROP                    (into any other husk bridge)
// Every husk bridge is named husk*: husk0 of the default network, husk<id> of the others.
#pragma once

#include <string>

#include "network/conflist.h"

namespace husk::network {

// Removes the rules of `net`.
void remove_isolation(const Network& net);
// Removes every rule and chain above and every MASQUERADE rule of a husk network (all
// that a husk of the CNI path left in the host's iptables; its per-container chains go
// with each container's CNI DEL). Nothing without iptables. Called when husk makes its
// nftables table, i.e. the first time this boot a container is connected by nftables.
void remove_cni_era_rules();

// Takes the bridge device `name` down and deletes it (ioctl SIOCBRDELBR); a bridge that
// does not exist is no error.
void delete_bridge(const std::string& name);

}  // namespace husk::network
