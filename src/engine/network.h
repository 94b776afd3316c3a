// Network modes of `husk run`: "bridge" (docker's default: husk's CNI bridge network,
// src/network), "none" (a network namespace of its own with loopback up) and "host".
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "engine/options.h"
#include "network/endpoint.h"
#include "network/netstore.h"
#include "sys/fd.h"

namespace husk::engine {

struct EngineContext;
struct ContainerRecord;

// Bring "lo" up in the network namespace of `pid`: a forked helper joins the
// namespace (setns) and sets IFF_UP with ioctl(SIOCSIFFLAGS). The runtime does not
// do it (runc neither: CNI's loopback plugin does).
void loopback_up(pid_t pid);

// /etc/hosts of a container with hostname `hostname` (docker's default lines).
std::string hosts_file(const std::string& hostname, bool host_network);
// /etc/resolv.conf from the host's: with its own network namespace the host's
// loopback name servers cannot be reached, so those are dropped (and where the host names
// only systemd-resolved's stub, resolved's upstreams in /run/systemd/resolve/resolv.conf
// are taken instead, as docker does).
std::string resolv_conf(bool host_network);
// Does that resolv.conf, before the drop, name a resolver on the host's loopback?
bool host_resolver_on_loopback();
// `conf` with docker's --dns, --dns-search, --dns-option: each given kind replaces the
// lines of that kind (nameserver; search and domain; options).
std::string with_dns(const std::string& conf, const std::vector<std::string>& servers,
                     const std::vector<std::string>& search,
                     const std::vector<std::string>& options);
// The address --add-host's "host-gateway" stands for in network mode `m`: the host as the
// container reaches it. The bridge's gateway; slirp4netns's 10.0.2.2; a user's default
// network (pasta) the host's default IPv4 gateway, which pasta gives the container as its
// own and maps to the host (its loopback). Throws when there is none (pasta without a
// default route).
std::string host_gateway(NetworkMode m);
// "HOST:IP" or "HOST=IP" of --add-host as an /etc/hosts line ("IP\tHOST\n"); IP
// "host-gateway" is `gateway` (host_gateway's). Throws docker's error for a bad one.
std::string add_host_line(const std::string& spec, const std::string& gateway);
// Every --add-host of a container in network mode `m` as /etc/hosts lines (host_gateway
// asked only when one names it).
std::string add_host_lines(const std::vector<std::string>& specs, NetworkMode m);

// Is `rec` a user's container on its own networks (rootless, engine/rootless_netns.h)?
bool uses_user_netns(const ContainerRecord& rec);
// Before such a container is created: the holder of the user's network namespace, whose
// user namespace it joins, started unless it runs (and the container counted among those
// that keep it).
void prepare_user_netns(const EngineContext& ctx, const ContainerRecord& rec);
// The bridge, rules, leases and DNS responder of network `n` (a user's: in its namespace).
void remove_network_state(const EngineContext& ctx, const network::NetworkRecord& n);

// Does a container of this mode get connected when it starts (bridge, user networks)?
bool connects(NetworkMode m);

// What slirp4netns offers (its --help, network/slirp.h), kept per binary in the state root.
std::string slirp_features_file(const EngineContext& ctx);

// Connects a container whose init (`pid`) is created and not yet started: host ports
// chosen and checked (against the host and husk's other containers), then in bridge
// mode the CNI ADD of the default network (endpoint in <id>/network.json), and on each
// user-defined network of rec.networks its own ADD (eth0, eth1, ...; endpoint in
// <id>/endpoints/<network>.json; the ports published on the first); its addresses in
// its /etc/hosts; on user-defined networks its names (name, short id, aliases) in the
// network's DNS responder, started with the network's first container
// (network/dns/control.h). Throws with nothing left behind. Call with the container's
// lock held (or before anyone else can know it).
// Returns what must stay open while the container runs: the write end of slirp4netns's
// exit pipe (network/slirp.h; empty in other modes), to be held by whoever runs it (the
// foreground husk, or the monitor: hand_to_monitor).
sys::UniqueFd connect_container(const EngineContext& ctx, const ContainerRecord& rec, pid_t pid);
// Undoes connect_container when the container is connected (no-op otherwise): called
// whenever a container stops being alive. Its networks' responders lose its names; the
// last container of a network takes the responder with it. Never throws (warns).
void disconnect_container(const EngineContext& ctx, const std::string& id);
// The endpoint of a connected container that publishes its ports: the default
// network's, else the first user-defined network's.
std::optional<network::Endpoint> container_endpoint(const EngineContext& ctx,
                                                    const std::string& id);
// Its endpoints on user-defined networks, by network name.
std::vector<std::pair<std::string, network::Endpoint>> user_endpoints(const EngineContext& ctx,
                                                                      const std::string& id);

// Checks that each network of `atts` exists and that an --ip is inside its subnet:
//   network NAME not found
//   requested IP 10.1.0.5 is not in the subnet 10.67.0.0/24 of network NAME
void check_attachments(const EngineContext& ctx, const std::vector<NetworkAttachment>& atts);
// Checks that the network a container's -p `ports` go to (the default one in `mode`
// bridge, else the first of `atts` but a users' CNI one) can carry them (an IPv6 host
// address needs --ipv6):
//   publish [fd00::1]:80:80/tcp: network NAME has no IPv6 (husk network create --ipv6)
void check_published(const EngineContext& ctx, NetworkMode mode,
                     const std::vector<NetworkAttachment>& atts,
                     const std::vector<network::PortMapping>& ports);
// Connects the running container `rec` (init `pid`) to one more user-defined network
// (husk network connect); nothing left behind on failure. Call with the container's lock.
void connect_running(const EngineContext& ctx, const ContainerRecord& rec, pid_t pid,
                     const NetworkAttachment& att);
// Disconnects container `id` from user-defined network `network` when it is connected.
void disconnect_running(const EngineContext& ctx, const std::string& id,
                        const std::string& network);

}  // namespace husk::engine
