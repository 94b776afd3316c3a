// Subnets of networks: CIDR text in and out, overlap, the n-th address, and the
// automatic choice of a free subnet (clear of every other network and of the host's
// routes), as docker picks one from its address pools.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace husk::network {

struct Cidr {
    int family = 0;                  // AF_INET | AF_INET6
    std::array<uint8_t, 16> addr{};  // the network address (host bits cleared)
    int prefix = 0;

    int bits() const { return family == 4 ? 32 : 128; }
    bool operator==(const Cidr&) const = default;
};

// "10.67.3.0/24", "fd00:1::/64". Host bits set are an error, as docker says it:
//   invalid subnet 10.67.3.5/24: it should be 10.67.3.0/24
// Throws `invalid CIDR address: x` for text that is no CIDR.
Cidr parse_cidr(std::string_view s);
std::string to_string(const Cidr& c);
// An address (no prefix) of either family; throws `invalid IP address: x`.
Cidr parse_ip(std::string_view s);
// The same, nullopt for text that is no address.
std::optional<Cidr> try_parse_ip(std::string_view s);
// As inet_ntop writes it: "10.66.0.5", "fd00::5".
std::string address_text(const Cidr& ip);

// An address and a port as the socket calls take them (bind, connect, sendto, recvfrom).
struct SocketAddress {
    sockaddr_storage storage{};
    socklen_t len = sizeof storage;  // what recvfrom and accept may fill in
    int family() const { return storage.ss_family; }
    const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }  // NOLINT
    sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }                    // NOLINT
    uint16_t port() const;
};
SocketAddress socket_address(const Cidr& ip, uint16_t port);

bool overlaps(const Cidr& a, const Cidr& b);
bool contains(const Cidr& net, const Cidr& ip);
// The address `n` after the network address ("10.67.3.0/24", 1 → "10.67.3.1").
std::string nth_address(const Cidr& net, uint32_t n);

// The IPv4 routes of the host's main table (/proc/net/route), default route left out.
std::vector<Cidr> host_routes();

// The first /24 of 10.67.0.0/16 .. 10.127.0.0/16 that overlaps none of `taken`. Throws
// when every one is taken (docker: "could not find an available, non-overlapping
// IPv4 address pool among the defaults to assign to the network").
Cidr pick_subnet(const std::vector<Cidr>& taken);

}  // namespace husk::network
