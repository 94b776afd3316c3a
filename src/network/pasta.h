// The user-mode network of a rootless container: pasta (Debian's passt) attached to the
// network and user namespaces of the container's init, as podman's rootless default.
// pasta configures eth0 in the namespace like the host's interface (--config-net),
// forwards the published ports from the host into it (-t, -u), and maps the gateway's
// address to the host's loopback. It does not end when the namespace's last process does
// (attached by path it is never told): it is stopped by pid with its container.
// Its directory, DIR:
//   pid    its pid, written by the child that becomes pasta before its execve (a command
//          killed at any moment leaves what stop_pasta needs)
//   ready  written by pasta once the namespace is configured and the ports are bound
//   log    what pasta said
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "network/ports.h"

namespace husk::network {

// pasta's arguments for the namespaces at `userns` and `netns` (paths), `ports`
// forwarded from the host, its files in `dir`.
std::vector<std::string> pasta_args(const std::string& pasta, const std::string& dir,
                                    const std::string& userns, const std::string& netns,
                                    const std::vector<PortMapping>& ports);

// Starts pasta for the container whose init is `pid` and returns once it serves. Throws
// husk::Error with pasta's own words (nothing left running, `dir` removed) when it cannot.
void start_pasta(const std::string& dir, pid_t pid, const std::vector<PortMapping>& ports);

// Kills the pasta of `dir` if one runs (by its pid, once /proc says that pid is still the
// pasta of `dir`), waits for its end and removes `dir`. No-op without `dir`.
void stop_pasta(const std::string& dir);

// Ports below net.ipv4.ip_unprivileged_port_start cannot be bound by a user: throws
// naming the sysctl.
void check_unprivileged_ports(const std::vector<PortMapping>& ports);

}  // namespace husk::network
