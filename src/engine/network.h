// Network modes of `husk run` until bridge networking exists: "none" (a
// network namespace of its own with loopback up) and "host".
#pragma once

#include <sys/types.h>

#include <string>

namespace husk::engine {

// Bring "lo" up in the network namespace of `pid`: a forked helper joins the
// namespace (setns) and sets IFF_UP with ioctl(SIOCSIFFLAGS). The runtime does not
// do it (runc neither: CNI's loopback plugin does).
void loopback_up(pid_t pid);

// /etc/hosts of a container with hostname `hostname` (docker's default lines).
std::string hosts_file(const std::string& hostname, bool host_network);
// /etc/resolv.conf from the host's: with its own network namespace the host's
// loopback name servers cannot be reached, so those are dropped.
std::string resolv_conf(bool host_network);

}  // namespace husk::engine
