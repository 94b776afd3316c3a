// Network modes of `husk run`: "bridge" (docker's default: husk's CNI bridge network,
// src/network), "none" (a network namespace of its own with loopback up) and "host".
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "network/endpoint.h"

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
// loopback name servers cannot be reached, so those are dropped.
std::string resolv_conf(bool host_network);
// `conf` with docker's --dns, --dns-search, --dns-option: each given kind replaces the
// lines of that kind (nameserver; search and domain; options).
std::string with_dns(const std::string& conf, const std::vector<std::string>& servers,
                     const std::vector<std::string>& search,
                     const std::vector<std::string>& options);
// "HOST:IP" or "HOST=IP" of --add-host as an /etc/hosts line ("IP\tHOST\n"); IP
// "host-gateway" is the bridge's gateway. Throws docker's error for a bad one.
std::string add_host_line(const std::string& spec);

// Connects a bridge-mode container whose init (`pid`) is created and not yet started:
// host ports chosen and checked (against the host and husk's other containers), the
// CNI ADD, its address in /etc/hosts, the endpoint saved in <id>/network.json. Throws
// with nothing left behind. Call with the container's lock held (or before anyone else
// can know it).
void connect_container(const EngineContext& ctx, const ContainerRecord& rec, pid_t pid);
// Undoes connect_container when the container is connected (no-op otherwise): called
// whenever a container stops being alive. Never throws (warns).
void disconnect_container(const EngineContext& ctx, const std::string& id);
// The endpoint of a connected container.
std::optional<network::Endpoint> container_endpoint(const EngineContext& ctx,
                                                    const std::string& id);

}  // namespace husk::engine
