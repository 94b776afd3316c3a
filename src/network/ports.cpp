#include "network/ports.h"

#include <charconv>

#include <fmt/format.h>

#include "network/subnet.h"
#include "sys/error.h"

namespace husk::network {

namespace {

uint16_t parse_port(std::string_view s, const char* what, bool zero_ok) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v > 65535 ||
        (v == 0 && !zero_ok))
        throw Error(fmt::format("invalid {}: {}", what, s));
    return static_cast<uint16_t>(v);
}

bool is_ipv4(const std::string& s) {
    auto a = try_parse_ip(s);
    return a && a->family == 4;
}

// "[fd00::1]:8080:80" -> "fd00::1" and "8080:80" in `rest`; "" (rest untouched) when `rest`
// holds no bracketed address.
std::string take_ipv6(std::string_view& rest) {
    if (!rest.starts_with('[')) return {};
    size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':')
        throw Error(fmt::format("invalid IP address: {}", rest));
    std::string_view ip = rest.substr(1, close - 1);
    auto a = try_parse_ip(ip);
    if (!a || a->family != 6) throw Error(fmt::format("invalid IP address: {}", ip));
    rest = rest.substr(close + 2);
    return address_text(*a);
}

}  // namespace

PortMapping parse_publish(std::string_view s) {
    PortMapping p;
    std::string_view rest = s;
    if (size_t slash = rest.rfind('/'); slash != std::string_view::npos) {
        p.protocol = std::string(rest.substr(slash + 1));
        if (p.protocol != "tcp" && p.protocol != "udp")
            throw Error(fmt::format("invalid proto: {}", p.protocol));
        rest = rest.substr(0, slash);
    }
    if (rest.find('-') != std::string_view::npos)
        throw Error(fmt::format("port ranges are not supported: {}", s));
    std::string ipv6 = take_ipv6(rest);
    std::vector<std::string_view> parts;
    if (!ipv6.empty()) parts.emplace_back("");  // its place
    size_t pos = 0;
    for (;;) {
        size_t colon = rest.find(':', pos);
        parts.push_back(rest.substr(pos, colon == std::string_view::npos ? colon : colon - pos));
        if (colon == std::string_view::npos) break;
        pos = colon + 1;
    }
    if (parts.size() > 3) throw Error(fmt::format("invalid port format: {}", s));
    p.container_port = parse_port(parts.back(), "containerPort", false);
    if (parts.size() >= 2 && !parts[parts.size() - 2].empty())
        p.host_port = parse_port(parts[parts.size() - 2], "hostPort", false);
    if (!ipv6.empty()) {
        if (parts.size() != 3) throw Error(fmt::format("invalid port format: {}", s));
        p.host_ip = ipv6;
    } else if (parts.size() == 3 && !parts[0].empty()) {
        p.host_ip = std::string(parts[0]);
        if (!is_ipv4(p.host_ip)) throw Error(fmt::format("invalid IP address: {}", p.host_ip));
        if (p.host_ip == "0.0.0.0") p.host_ip.clear();
    }
    return p;
}

namespace {

struct PortRange {
    unsigned first = 0, last = 0;  // 0, 0: none given
    bool given() const { return last != 0; }
};

PortRange parse_range(std::string_view s, const char* what) {
    if (s.empty()) return {};
    size_t dash = s.find('-');
    if (dash == std::string_view::npos) {
        unsigned v = parse_port(s, what, false);
        return {v, v};
    }
    PortRange r{parse_port(s.substr(0, dash), what, false),
                parse_port(s.substr(dash + 1), what, false)};
    if (r.last < r.first) throw Error(fmt::format("invalid {}: {}", what, s));
    return r;
}

}  // namespace

std::vector<PortMapping> parse_publish_ranges(std::string_view s) {
    std::string_view rest = s, proto;
    if (size_t slash = rest.rfind('/'); slash != std::string_view::npos) {
        proto = rest.substr(slash);
        rest = rest.substr(0, slash);
    }
    if (rest.find('-') == std::string_view::npos) return {parse_publish(s)};
    size_t last_colon = rest.rfind(':');
    std::string_view cpart =
        last_colon == std::string_view::npos ? rest : rest.substr(last_colon + 1);
    std::string_view front = last_colon == std::string_view::npos ? "" : rest.substr(0, last_colon);
    size_t ip_colon = front.rfind(':');
    std::string_view hpart =
        ip_colon == std::string_view::npos ? front : front.substr(ip_colon + 1);
    std::string_view ip = ip_colon == std::string_view::npos ? "" : front.substr(0, ip_colon + 1);
    PortRange c = parse_range(cpart, "containerPort"), h = parse_range(hpart, "hostPort");
    if (h.given() && h.last - h.first != c.last - c.first)
        throw Error(fmt::format("invalid ranges specified for container and host Ports: {} and {}",
                                cpart, hpart));
    std::vector<PortMapping> out;
    for (unsigned i = 0; i <= c.last - c.first; ++i) {
        std::string host = h.given() ? std::to_string(h.first + i) : "";
        std::string one = last_colon == std::string_view::npos
                              ? fmt::format("{}{}", c.first + i, proto)
                              : fmt::format("{}{}:{}{}", ip, host, c.first + i, proto);
        out.push_back(parse_publish(one));
    }
    return out;
}

bool is_ipv6(const PortMapping& p) {
    return p.host_ip.find(':') != std::string::npos;
}

std::string host_address(const PortMapping& p) {
    if (p.host_ip.empty()) return fmt::format("0.0.0.0:{}", p.host_port);
    if (is_ipv6(p)) return fmt::format("[{}]:{}", p.host_ip, p.host_port);
    return fmt::format("{}:{}", p.host_ip, p.host_port);
}

std::string to_string(const PortMapping& p) {
    std::string host = p.host_port ? std::to_string(p.host_port) : "";
    if (is_ipv6(p))
        return fmt::format("[{}]:{}:{}/{}", p.host_ip, host, p.container_port, p.protocol);
    if (!p.host_ip.empty())
        return fmt::format("{}:{}:{}/{}", p.host_ip, host, p.container_port, p.protocol);
    if (p.host_port) return fmt::format("{}:{}/{}", host, p.container_port, p.protocol);
    return fmt::format("{}/{}", p.container_port, p.protocol);
}

std::string describe(const PortMapping& p) {
    return fmt::format("{}->{}/{}", host_address(p), p.container_port, p.protocol);
}

bool collides(const PortMapping& a, const PortMapping& b) {
    // "" is every address, "::" every IPv6 one
    auto any6 = [](const PortMapping& p, const PortMapping& other) {
        return p.host_ip == "::" && is_ipv6(other);
    };
    return a.protocol == b.protocol && a.host_port == b.host_port && a.host_port != 0 &&
           (a.host_ip.empty() || b.host_ip.empty() || a.host_ip == b.host_ip || any6(a, b) ||
            any6(b, a));
}

}  // namespace husk::network
