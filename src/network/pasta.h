// The user-mode network of a rootless container: pasta (Debian's passt) attached to the
// network and user namespaces of the container's init, as podman's rootless default.
// pasta configures eth0 in the namespace like the host's interface (--config-net),
// forwards the published ports from the host into it (-t, -u), and maps the gateway's
// address to the host's loopback. A user-mode network helper (network/usernet.h: stopped
// by pid with its container); its directory, DIR, holds besides its pid and log:
//   ready  written by pasta once the namespace is configured and the ports are bound
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "network/ports.h"
#include "network/usernet.h"

namespace husk::network {

// Where pasta answers DNS, forwarding to the host's first resolver (--dns-forward): the
// container's nameserver when the host's resolvers are on its loopback (systemd-resolved's
// 127.0.0.53, a local cache), which the container's own loopback is not. podman's address.
inline constexpr const char* kPastaDnsForward = "169.254.1.1";

// pasta's arguments for the namespaces at `userns` and `netns` (paths), `ports`
// forwarded from the host, its files in `dir`.
std::vector<std::string> pasta_args(const std::string& pasta, const std::string& dir,
                                    const std::string& userns, const std::string& netns,
                                    const std::vector<PortMapping>& ports);

// Starts pasta for the container whose init is `pid` and returns once it serves (stopped
// by stop_helper). Throws husk::Error with pasta's own words (nothing left running, `dir`
// removed) when it cannot.
void start_pasta(const std::string& dir, pid_t pid, const std::vector<PortMapping>& ports);

}  // namespace husk::network
