// slirp4netns, the other user-mode network of a container (`--network slirp4netns`, as
// podman's): attached to the network namespace of the container's init (and its user
// namespace when it has one of its own), it configures tap0 with 10.0.2.100/24 and a route
// through 10.0.2.2 (the host: its loopback only with allow_host_loopback), answers DNS on
// 10.0.2.3 (forwarded to the host's resolvers) and forwards the published ports from the
// host, asked one by one through its API socket (add_hostfwd). A user-mode network helper
// (network/usernet.h: stopped by pid with its container); its directory, DIR, holds besides
// its pid and log:
//   netns, userns  symlinks to the init's /proc/PID/ns files, the paths slirp4netns is given
//                  (its argument DIR/netns is how stop_helper knows it)
//   api.sock       its API socket, reached as /proc/self/fd/N/api.sock through a descriptor
//                  of DIR (a container's DIR is longer than a socket address may be)
// It is not given --exit-fd: a detached container outlives the husk that started it, and
// it ends by its pid as pasta does.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "network/ports.h"

namespace husk::network {

inline constexpr const char* kSlirpAddress = "10.0.2.100";
inline constexpr const char* kSlirpGateway = "10.0.2.2";
inline constexpr const char* kSlirpDns = "10.0.2.3";
inline constexpr int kSlirpPrefix = 24;

// podman's --network slirp4netns:OPTION=VALUE,... that husk does.
struct SlirpOptions {
    bool allow_host_loopback = false;  // the host's 127.0.0.1 as 10.0.2.2
    int mtu = 65520;
    bool operator==(const SlirpOptions&) const = default;
};

// Parses podman's option list ("" for none): allow_host_loopback=true|false,
// mtu=N (68..65521), port_handler=slirp4netns. Throws one line naming the option for the
// others (cidr, enable_ipv6, outbound_addr, outbound_addr6, port_handler=rootlesskit) and
// for anything else.
SlirpOptions parse_slirp_options(std::string_view text);

// slirp4netns's arguments: its files in `dir`, its API socket through descriptor `dir_fd`
// of `dir`, readiness on `ready_fd`; joining the user namespace DIR/userns when `userns`.
std::vector<std::string> slirp_args(const std::string& slirp, const std::string& dir, int dir_fd,
                                    int ready_fd, bool userns, const SlirpOptions& o);

// The API request that publishes `p` (host ports resolved).
nlohmann::json add_hostfwd_request(const PortMapping& p);

// Starts slirp4netns for the container whose init is `pid`, publishes `ports` through its
// API and returns (stopped by stop_helper). Throws husk::Error with slirp4netns's own words
// or the API's error, naming the port (nothing left running, `dir` removed).
void start_slirp(const std::string& dir, pid_t pid, const std::vector<PortMapping>& ports,
                 const SlirpOptions& o);

}  // namespace husk::network
