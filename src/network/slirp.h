// slirp4netns, the other user-mode network of a container (`--network slirp4netns`, as
// podman's): attached to the network namespace of the container's init (and its user
// namespace when it has one of its own), it configures tap0 with 10.0.2.100/24 and a route
// through 10.0.2.2 (the host: its loopback only with allow_host_loopback), answers DNS on
// 10.0.2.3 (forwarded to the host's resolvers) and forwards the published ports from the
// host, asked one by one through its API socket (add_hostfwd). With enable_ipv6=true tap0
// also gets an address of fd00::/64 from slirp's router advertisements (slirp is fd00::2,
// its DNS fd00::3). A user-mode network helper (network/usernet.h: stopped by pid with its
// container); its directory, DIR, holds besides its pid and log:
//   netns, userns  symlinks to the init's /proc/PID/ns files, the paths slirp4netns is given
//                  (its argument DIR/netns is how stop_helper knows it)
//   api.sock       its API socket, reached as /proc/self/fd/N/api.sock through a descriptor
//                  of DIR (a container's DIR is longer than a socket address may be)
// It is given --exit-fd, the read end of a pipe: it ends by itself once every write end is
// closed. start_slirp returns the write end; husk holds it while it runs the container in
// the foreground, and hands it to the container's monitor (engine/monitor.h) for a detached
// one, so a husk or a monitor killed at any moment leaves no slirp4netns behind, and the
// kill by pid still ends it with its container.
// Where the installed slirp4netns has them (its --help, as podman reads it; read once per
// binary and kept across runs in husk's state root, slirp4netns.features), it runs with
// --enable-sandbox (its own mount namespace, / an empty read-only tmpfs with /etc and /run,
// capabilities dropped) and --enable-seccomp. Its sandbox needs it to be root in the user namespace
// it runs in: a user's slirp4netns is started inside the container's user namespace (as podman
// starts it inside its own), where the user is root; started from the user's own namespace the
// sandbox fails ("setegid(0)"). Should a start with the sandbox fail, it is started again without
// it, with one warning line.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "network/ports.h"
#include "sys/fd.h"

namespace husk::network {

inline constexpr const char* kSlirpAddress = "10.0.2.100";
inline constexpr const char* kSlirpGateway = "10.0.2.2";
inline constexpr const char* kSlirpDns = "10.0.2.3";
inline constexpr int kSlirpPrefix = 24;

// podman's --network slirp4netns:OPTION=VALUE,... that husk does.
struct SlirpOptions {
    bool allow_host_loopback = false;  // the host's 127.0.0.1 as 10.0.2.2
    int mtu = 65520;
    bool enable_ipv6 = false;  // tap0 also on fd00::/64 (no route to the host's IPv6 beyond)
    bool operator==(const SlirpOptions&) const = default;
};

// Parses podman's option list ("" for none): allow_host_loopback=true|false,
// enable_ipv6=true|false, mtu=N (68..65521), port_handler=slirp4netns. Throws one line
// naming the option for the others (cidr, outbound_addr, outbound_addr6,
// port_handler=rootlesskit) and for anything else.
SlirpOptions parse_slirp_options(std::string_view text);

// What the installed slirp4netns can do (its --help).
struct SlirpFeatures {
    bool exit_fd = false;
    bool sandbox = false;
    bool seccomp = false;
    bool ipv6 = false;
};
SlirpFeatures slirp_features_of(std::string_view help);

// One start of slirp4netns: its files in `dir`, its API socket through descriptor `dir_fd`
// of `dir`, readiness on `ready_fd`, its end on `exit_fd` (-1: none); `userns_path`: it
// joins the user namespace DIR/userns itself (else it runs in the one it is started in).
struct SlirpLaunch {
    std::string dir;
    int dir_fd = -1;
    int ready_fd = -1;
    int exit_fd = -1;
    bool userns_path = false;
    bool sandbox = false;
    bool seccomp = false;
};

// slirp4netns's arguments for `l` and `o`.
std::vector<std::string> slirp_args(const std::string& slirp, const SlirpLaunch& l,
                                    const SlirpOptions& o);

// The API request that publishes `p` (host ports resolved).
nlohmann::json add_hostfwd_request(const PortMapping& p);

// Starts slirp4netns for the container whose init is `pid`, publishes `ports` through its
// API and returns the write end of its exit pipe (close-on-exec): slirp4netns ends when
// the last copy of it is closed, or by stop_helper. Throws husk::Error with slirp4netns's
// own words or the API's error, naming the port (nothing left running, `dir` removed).
// `features_cache` ("": none) is a file that keeps what slirp_features_of found in the
// installed slirp4netns's --help across runs, for that binary (its path, device, inode, size
// and mtime): read_slirp_features_cache.
sys::UniqueFd start_slirp(const std::string& dir, pid_t pid, const std::vector<PortMapping>& ports,
                          const SlirpOptions& o, const std::string& features_cache = {});

// The features `cache` (the text of a features cache file) keeps for the binary `slirp` as
// it is now (`st`: its stat), or none when it was written for another binary or another
// version of it (any of path, device, inode, size, mtime changed) or cannot be read.
std::optional<SlirpFeatures> read_slirp_features_cache(std::string_view cache,
                                                       const std::string& slirp,
                                                       const struct stat& st);
// The text of a features cache file keeping `f` for the binary `slirp` (`st`: its stat).
std::string slirp_features_cache(const SlirpFeatures& f, const std::string& slirp,
                                 const struct stat& st);

// Publishes `ports` through the slirp4netns running in `dir`, and takes them back (its
// API's add_hostfwd, list_hostfwd and remove_hostfwd). Throw naming the port.
void slirp_publish(const std::string& dir, const std::vector<PortMapping>& ports);
void slirp_unpublish(const std::string& dir, const std::vector<PortMapping>& ports);

}  // namespace husk::network
