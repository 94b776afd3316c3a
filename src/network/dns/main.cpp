// husk-dns: the DNS responder of one user-defined network, started by the engine
// (network/dns_control.h) with the network's first container and killed with its last.
//
// usage: husk-dns LOCK_FD READY_FD DIR ADDRESS SUBNET [--no-forward | --loopback-via ADDR]
//   LOCK_FD   DIR/lock, flock'ed by the engine for us: held as long as we live, it says
//             "a responder runs" (a killed one's is released with it)
//   READY_FD  gets "ok\n" once we answer on ADDRESS:53 (UDP and TCP), or "err MESSAGE\n"
//   DIR       the names we answer (DIR/names); we write DIR/pid ("PID START_TIME")
//   SUBNET    the network's: the only clients answered (another network's containers
//             reach the gateway through the host, and must learn none of its names)
//   --no-forward  an --internal network's: other names get SERVFAIL, nothing goes out
//   --loopback-via ADDR  the host's resolvers on its loopback are asked at ADDR (a user's
//             networks' namespace, whose loopback is its own: slirp4netns' 10.0.2.3)
// HUSK_DNS_RESOLV_CONF names another file than /etc/resolv.conf for the forwarder.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include <fmt/format.h>

#include "network/daemon.h"
#include "network/dns/server.h"
#include "network/subnet.h"
#include "sys/error.h"

int main(int argc, char** argv) {
    using namespace husk;
    bool no_forward = argc == 7 && std::string(argv[6]) == "--no-forward";
    bool via = argc == 8 && std::string(argv[6]) == "--loopback-via";
    if (argc != 6 && !no_forward && !via) {
        std::fputs(
            "usage: husk-dns LOCK_FD READY_FD DIR ADDRESS SUBNET [--no-forward | --loopback-via "
            "ADDR]\n",
            stderr);
        return 2;
    }
    int ready = std::atoi(argv[2]);
    std::string dir = argv[3];
    network::dns::ServerConfig cfg;
    cfg.names_path = dir + "/names";
    cfg.address = argv[4];
    cfg.forward = !no_forward;
    cfg.lock_fd = std::atoi(argv[1]);
    if (via) cfg.loopback_via = argv[7];
    if (const char* rc = std::getenv("HUSK_DNS_RESOLV_CONF"); rc && *rc) cfg.resolv_conf = rc;
    try {
        cfg.subnet = network::parse_cidr(argv[5]);
        sys::UniqueFd sock = network::dns::listen_udp(cfg.address);
        sys::UniqueFd tcp = network::dns::listen_tcp(cfg.address);
        network::daemon_ready(ready, dir);
        network::dns::serve(sock.get(), tcp.get(), cfg);
    } catch (const std::exception& e) {
        network::daemon_ready(ready, dir, e.what());
        return 1;
    }
}
