#include "network/subnet.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <sstream>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/fileutil.h"

namespace husk::network {

namespace {

bool parse_address(const std::string& text, Cidr& out) {
    if (::inet_pton(AF_INET, text.c_str(), out.addr.data()) == 1) {
        out.family = 4;
        return true;
    }
    if (::inet_pton(AF_INET6, text.c_str(), out.addr.data()) == 1) {
        out.family = 6;
        return true;
    }
    return false;
}

// Is bit `i` (from the most significant of the first byte) set?
bool bit(const Cidr& c, int i) {
    return (c.addr[i / 8] >> (7 - i % 8)) & 1;
}

Cidr masked(Cidr c, int prefix) {
    for (int i = prefix; i < c.bits(); ++i)
        c.addr[i / 8] &= static_cast<uint8_t>(~(0x80 >> (i % 8)));
    c.prefix = prefix;
    return c;
}

}  // namespace

std::optional<Cidr> try_parse_ip(std::string_view s) {
    Cidr c;
    if (!parse_address(std::string(s), c)) return std::nullopt;
    c.prefix = c.bits();
    return c;
}

Cidr parse_ip(std::string_view s) {
    auto c = try_parse_ip(s);
    if (!c) throw Error(fmt::format("invalid IP address: {}", s));
    return *c;
}

SocketAddress socket_address(const Cidr& ip, uint16_t port) {
    SocketAddress a;
    if (ip.family == 4) {
        sockaddr_in in{};
        in.sin_family = AF_INET;
        in.sin_port = htons(port);
        std::memcpy(&in.sin_addr, ip.addr.data(), sizeof in.sin_addr);
        std::memcpy(&a.storage, &in, sizeof in);
        a.len = sizeof in;
    } else {
        sockaddr_in6 in6{};
        in6.sin6_family = AF_INET6;
        in6.sin6_port = htons(port);
        std::memcpy(&in6.sin6_addr, ip.addr.data(), sizeof in6.sin6_addr);
        std::memcpy(&a.storage, &in6, sizeof in6);
        a.len = sizeof in6;
    }
    return a;
}

uint16_t SocketAddress::port() const {
    if (family() == AF_INET) {
        sockaddr_in in{};
        std::memcpy(&in, &storage, sizeof in);
        return ntohs(in.sin_port);
    }
    sockaddr_in6 in6{};
    std::memcpy(&in6, &storage, sizeof in6);
    return ntohs(in6.sin6_port);
}

std::string address_text(const Cidr& ip) {
    char buf[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(ip.family == 4 ? AF_INET : AF_INET6, ip.addr.data(), buf, sizeof buf);
    return buf;
}

Cidr parse_cidr(std::string_view s) {
    size_t slash = s.find('/');
    Cidr c;
    int prefix = -1;
    if (slash != std::string_view::npos) {
        auto p = s.substr(slash + 1);
        auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
        if (ec != std::errc() || end != p.data() + p.size() || p.empty()) prefix = -1;
    }
    if (slash == std::string_view::npos || prefix < 0 ||
        !parse_address(std::string(s.substr(0, slash)), c) || prefix > c.bits())
        throw Error(fmt::format("invalid CIDR address: {}", s));
    c.prefix = prefix;
    Cidr net = masked(c, prefix);
    if (net.addr != c.addr)
        throw Error(fmt::format("invalid subnet {}: it should be {}", s, to_string(net)));
    return net;
}

std::string to_string(const Cidr& c) {
    return fmt::format("{}/{}", address_text(c), c.prefix);
}

bool overlaps(const Cidr& a, const Cidr& b) {
    if (a.family != b.family) return false;
    int p = std::min(a.prefix, b.prefix);
    for (int i = 0; i < p; ++i)
        if (bit(a, i) != bit(b, i)) return false;
    return true;
}

bool contains(const Cidr& net, const Cidr& ip) {
    return net.family == ip.family && net.prefix <= ip.prefix && masked(ip, net.prefix) == net;
}

std::string nth_address(const Cidr& net, uint32_t n) {
    Cidr a = net;
    for (int i = (a.bits() / 8) - 1; i >= 0 && n != 0; --i) {
        uint32_t sum = a.addr[i] + (n & 0xff);
        a.addr[i] = static_cast<uint8_t>(sum);
        n = (n >> 8) + (sum >> 8);
    }
    return address_text(a);
}

std::vector<Cidr> host_routes() {
    std::vector<Cidr> out;
    auto text = sys::read_file_if_exists("/proc/net/route");
    if (!text) return out;
    std::istringstream in(*text);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string iface, dest, gw, flags, refcnt, use, metric, mask;
        if (!(ls >> iface >> dest >> gw >> flags >> refcnt >> use >> metric >> mask)) continue;
        // little-endian hex of the address as the kernel holds it
        uint32_t d = std::stoul(dest, nullptr, 16), m = std::stoul(mask, nullptr, 16);
        if (m == 0) continue;  // the default route
        Cidr c;
        c.family = 4;
        for (int i = 0; i < 4; ++i) c.addr[i] = static_cast<uint8_t>(d >> (8 * i));
        c.prefix = __builtin_popcount(m);
        out.push_back(masked(c, c.prefix));
    }
    return out;
}

Cidr pick_subnet(const std::vector<Cidr>& taken) {
    for (int second = 67; second <= 127; ++second)
        for (int third = 0; third < 256; ++third) {
            Cidr c = parse_cidr(fmt::format("10.{}.{}.0/24", second, third));
            bool free = true;
            for (auto& t : taken) free = free && !overlaps(c, t);
            if (free) return c;
        }
    throw Error(
        "could not find an available, non-overlapping IPv4 address pool among the defaults to "
        "assign to the network");
}

}  // namespace husk::network
