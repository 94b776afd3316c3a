// Outbound NAT of a husk of the CNI path: one iptables MASQUERADE rule per subnet (as
// docker has one per network). husk's own NAT is nftables' now (network/nft.h): these are
// only removed, with the network (husk network rm) or all at once (remove_cni_era_rules).
#pragma once

#include "network/conflist.h"

namespace husk::network {

// Removes from the nat table's POSTROUTING, while iptables -C finds it:
//   -s SUBNET ! -d SUBNET -m comment --comment "husk network NAME" -j MASQUERADE
void remove_masquerade(const Network& net);
// Removes every such rule, whatever its network (found by the comment in iptables -S).
void remove_all_masquerades();

}  // namespace husk::network
