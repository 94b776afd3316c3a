// Running iptables (the host's own, found in /usr/sbin, /sbin or /usr/bin) for the few
// rules husk's networks keep in the host's tables: outbound NAT and isolation.
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
// Deletes `rule` from `chain` while iptables -C finds it; no error when it is not there.
void delete_rule(const std::string& table, const std::string& chain,
                 const std::vector<std::string>& rule);
// Creates `chain` in `table` unless it exists.
void ensure_chain(const std::string& table, const std::string& chain);

}  // namespace husk::network
