// Outbound NAT of husk's networks: one MASQUERADE rule per subnet (as docker has one per
// network), not the bridge plugin's per-container chains (ipMasq). Those are found at
// DEL through the addresses inside the container's namespace, so they leak whenever the
// namespace is gone first; one rule per subnet has nothing to leak.
#pragma once

#include "network/conflist.h"

namespace husk::network {

// Adds, unless present (iptables -C), to the nat table's POSTROUTING:
//   -s SUBNET ! -d SUBNET -m comment --comment "husk network NAME" -j MASQUERADE
// Kept, like the bridge device, when the last container leaves.
void ensure_masquerade(const Network& net);
// Removes it (husk network rm).
void remove_masquerade(const Network& net);

}  // namespace husk::network
