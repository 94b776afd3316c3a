// Containers on different husk networks cannot reach each other, and an internal network
// reaches nothing beyond its bridge: filter rules in the CNI firewall plugin's admin
// chain (CNI-ADMIN, run first in CNI-FORWARD, before its per-container ACCEPTs), in
// docker's two stages:
//   HUSK-ISOLATION:    -i BR ! -o BR -j HUSK-ISOLATION-2   (for every husk bridge)
//                      -i BR ! -o BR -j DROP, -o BR ! -i BR -j DROP   (internal ones)
//   HUSK-ISOLATION-2:  -o husk+ -j DROP                    (into any other husk bridge)
// Every husk bridge is named husk*: husk0 of the default network, husk<id> of the others.
#pragma once

#include <string>

#include "network/conflist.h"

namespace husk::network {

// Adds the rules of `net` (and of the default bridge husk0, once).
void ensure_isolation(const Network& net);
// Removes the rules of `net`.
void remove_isolation(const Network& net);

// Takes the bridge device `name` down and deletes it (ioctl SIOCBRDELBR); a bridge that
// does not exist is no error.
void delete_bridge(const std::string& name);

}  // namespace husk::network
