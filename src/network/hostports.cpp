#include "network/hostports.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include <fmt/format.h>

#include "network/portproxy.h"
#include "network/subnet.h"
#include "sys/error.h"
#include "sys/fd.h"

namespace husk::network {

namespace {

// Binds host_ip:host_port (0: any free port) and returns the port bound.
uint16_t bind_once(const PortMapping& p) {
    int type = p.protocol == "udp" ? SOCK_DGRAM : SOCK_STREAM;
    bool v6 = is_ipv6(p);
    SocketAddress a =
        socket_address(parse_ip(p.host_ip.empty() ? "0.0.0.0" : p.host_ip), p.host_port);
    sys::UniqueFd s(::socket(a.family(), type | SOCK_CLOEXEC, 0));
    if (!s) throw_sys("socket");
    int one = 1;
    if (v6)  // "::" stands for the IPv6 addresses only, as docker's [::]
        ::setsockopt(s.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    // as the listener that serves it will (pasta, husk-proxy, Go's net.Listen): connections
    // of an earlier server left in TIME_WAIT do not make the port taken; a listener does
    if (type == SOCK_STREAM) ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(s.get(), a.get(), a.len) != 0)
        throw Error(
            fmt::format("listen {}{} {}: bind: {}", p.protocol, v6 ? 6 : 4, host_address(p),
                        errno == EADDRINUSE ? "address already in use" : std::strerror(errno)),
            errno);
    if (::getsockname(s.get(), a.get(), &a.len) != 0) throw_sys("getsockname");
    return a.port();
}

}  // namespace

void resolve_host_ports(std::vector<PortMapping>& ports, bool has_ip6) {
    constexpr int kTries = 32;
    for (auto& p : ports) {
        // what husk-proxy serves it on [::1] too (portproxy.h) needs the port free there
        bool loopback6 = proxied(p, has_ip6) && p.host_ip != "::1";
        PortMapping lo6 = p;
        lo6.host_ip = "::1";
        for (int tries = 1;; ++tries) {
            uint16_t port = bind_once(p);
            if (loopback6) {
                lo6.host_port = port;
                try {
                    bind_once(lo6);
                } catch (const Error& e) {
                    // one we chose: another one
                    if (p.host_port != 0 || e.code() != EADDRINUSE || tries == kTries) throw;
                    continue;
                }
            }
            p.host_port = port;
            break;
        }
    }
}

}  // namespace husk::network
