// Running iptables (the host's own, found in /usr/sbin, /sbin or /usr/bin): accepts for
// husk's bridges where another table's FORWARD policy drops (network/nft.cpp), and the
// removal of the rules a husk of the CNI path kept (outbound NAT and isolation: husk's
// own are nftables' now).
#pragma once

#include <string>
#include <vector>

namespace husk::network {

// Is there an iptables to run?
bool has_iptables();

// Runs `iptables -w ARGS...` (output to /dev/null); its exit status.
int iptables(std::vector<std::string> args);

// Adds `rule` (arguments after the chain) to `chain` of `table` unless iptables -C finds
// it; `insert` puts it first. Checks and adds under one host-wide lock, so two husks
// add it once. Throws naming the rule when iptables fails.
void ensure_rule(const std::string& table, const std::string& chain,
                 const std::vector<std::string>& rule, bool insert = false);
// The rules of `chain` in `table` as `iptables -S` prints them, one a line; empty when
// the chain does not exist.
std::string list_rules(const std::string& table, const std::string& chain);
// Deletes `rule` from `chain` while iptables -C finds it; no error when it is not there.
void delete_rule(const std::string& table, const std::string& chain,
                 const std::vector<std::string>& rule);
// Empties and deletes `chain` of `table`; no error when it is not there.
void delete_chain(const std::string& table, const std::string& chain);

}  // namespace husk::network
