// Where the network code keeps its host-wide state (subnet reservations, address leases,
// the DNS responders' and husk-proxy's directories, nftables' markers and lock): root keeps
// the host's own paths; a user (rootless: its networks live in namespaces of its own,
// engine/rootless_netns.h) keeps the same paths under its state root's .net/ (user_state_root), so
// that no two users share one and no user needs a host directory it may not write.
#pragma once

#include <string>

namespace husk::network {

// `host_path` (absolute) as this process keeps it.
std::string state_path(const std::string& host_path);

// The directory under which a user keeps all of them (empty for root): the one given to
// use_user_state_root (the engine gives its state root's ".net", so two data roots of one
// user keep apart); a user's process that gave none gets an error, not a directory of its own.
std::string user_state_root();
void use_user_state_root(std::string dir);

}  // namespace husk::network
