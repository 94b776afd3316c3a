// `husk network create | ls | inspect | rm | prune | connect | disconnect`: user-defined
// networks (network/netstore.h) as docker has them. A network's bridge, rules and leases
// are made at the first container's connect and removed by `rm`; what a killed command
// left (a subnet reservation, an endpoint file) is undone by `rm`, `prune` or `husk rm`.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/run.h"
#include "network/netstore.h"

namespace husk::engine {

// Records the network (subnet picked unless given); throws one line on bad input
// (network/netstore.h).
network::NetworkRecord create_network(const EngineContext& ctx, const network::NetworkSpec& spec);
std::vector<network::NetworkRecord> list_networks(const EngineContext& ctx);
// By name, id or unique id prefix; throws `network NAME not found`.
network::NetworkRecord get_network(const EngineContext& ctx, const std::string& key);
// docker's shape: Name, Id, Created, Driver, IPAM.Config, Internal, Containers, ...
nlohmann::json inspect_network(const EngineContext& ctx, const network::NetworkRecord& n);
// Refused while a container is on it (running or not):
//   error while removing network: network app id 3f2a... has active endpoints (web)
// The bridge, its iptables rules, leases and the record go.
void remove_network(const EngineContext& ctx, const std::string& key);
// Removes every network no container is on; their names.
std::vector<std::string> prune_networks(const EngineContext& ctx);

// husk network connect [--alias A] [--ip IP] NET CONTAINER: on the record, and on the
// network now when the container runs. Refused (one line, nothing changed):
//   endpoint with name web already exists in network app
//   container cannot be disconnected from host network or connected to host network
void connect_network(const EngineContext& ctx, const std::string& net, const std::string& container,
                     const std::vector<std::string>& aliases, const std::string& ip);
// husk network disconnect NET CONTAINER:
//   container 3f2a... is not connected to network app
void disconnect_network(const EngineContext& ctx, const std::string& net,
                        const std::string& container);

}  // namespace husk::engine
