#include "network/hostports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/fd.h"

namespace husk::network {

namespace {

// Binds host_ip:host_port (0: any free port) and returns the port bound.
uint16_t bind_once(const PortMapping& p) {
    int type = p.protocol == "udp" ? SOCK_DGRAM : SOCK_STREAM;
    sys::UniqueFd s(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
    if (!s) throw_sys("socket");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(p.host_port);
    std::string ip = p.host_ip.empty() ? "0.0.0.0" : p.host_ip;
    if (::inet_pton(AF_INET, ip.c_str(), &a.sin_addr) != 1)
        throw Error(fmt::format("invalid IP address: {}", ip));
    if (::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        throw Error(
            fmt::format("listen {}4 {}:{}: bind: {}", p.protocol, ip, p.host_port,
                        errno == EADDRINUSE ? "address already in use" : std::strerror(errno)));
    socklen_t len = sizeof a;
    if (::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0)
        throw_sys("getsockname");
    return ntohs(a.sin_port);
}

}  // namespace

void resolve_host_ports(std::vector<PortMapping>& ports) {
    for (auto& p : ports) p.host_port = bind_once(p);
}

}  // namespace husk::network
