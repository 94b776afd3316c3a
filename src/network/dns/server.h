// husk-dns's loop: one UDP socket on the network's gateway, port 53. Queries for the
// network's names are answered from DIR/names (re-read when its stat changes: one stat
// per query, ~1.7 us here against a 36 us round trip, bench/network/lookup.sh; inotify
// would save only that); the others are forwarded without blocking the answers to the
// rest: to the asking container's --dns servers or the network's (both in DIR/names),
// else to the nameservers of the host's /etc/resolv.conf (re-read likewise).
#pragma once

#include <string>

#include "network/subnet.h"
#include "sys/fd.h"

namespace husk::network::dns {

struct ServerConfig {
    std::string names_path;
    std::string resolv_conf = "/etc/resolv.conf";
    std::string address;  // ours: the gateway, never forwarded to
    Cidr subnet;          // the clients answered: the network's; others get nothing
    bool forward = true;  // false: other names get SERVFAIL
    // the host's resolvers on its loopback (127.0.0.53, a local cache) are asked through
    // this address instead, where the responder's loopback is not the host's (a user's
    // networks' namespace: slirp4netns' DNS forwarder). Empty: as resolv.conf says.
    std::string loopback_via;
    int upstream_timeout_ms = 2000;
    int lock_fd = -1;  // closed in the TCP children
};

// The sockets bound to ADDRESS:53. Throw SysError("bind", "ADDRESS:53/udp").
sys::UniqueFd listen_udp(const std::string& address);
sys::UniqueFd listen_tcp(const std::string& address);

// Serves forever on `udp` and `tcp`; returns only on a poll error (thrown).
[[noreturn]] void serve(int udp, int tcp, const ServerConfig& cfg);

}  // namespace husk::network::dns
