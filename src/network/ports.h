// Published ports (`-p`/`--publish`), in docker's forms:
//   CPORT  HOSTPORT:CPORT  IP:HOSTPORT:CPORT  IP::CPORT   each with an optional /tcp or /udp
// where IP is IPv4 or a bracketed IPv6 address ("[::1]:8080:80"; "[::]" is every IPv6 one).
// A host port of 0 means "chosen by us" (a free ephemeral port, picked when the
// container is connected).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace husk::network {

struct PortMapping {
    std::string host_ip;  // "" = every address (docker prints 0.0.0.0); IPv6 unbracketed
    uint16_t host_port = 0;
    uint16_t container_port = 0;
    std::string protocol = "tcp";  // tcp | udp

    bool operator==(const PortMapping&) const = default;
};

// Parses one -p value; throws husk::Error with docker's wording
// (`invalid containerPort: x`, `invalid hostPort: x`, `invalid IP address: x`).
PortMapping parse_publish(std::string_view s);

// One -p value that may hold ranges, as docker takes them: "8000-8010:8000-8010",
// "127.0.0.1:9000-9001:80-81/udp", "8000-8002" (host ports chosen), one mapping per
// port. Host and container ranges must have one length:
//   invalid ranges specified for container and host Ports: 80-81 and 90-92
std::vector<PortMapping> parse_publish_ranges(std::string_view s);

// As the -p value that makes it again: "127.0.0.1:8080:80/tcp" (parse_publish's inverse).
std::string to_string(const PortMapping& p);
// As docker ps prints it: "127.0.0.1:8080->80/tcp", "0.0.0.0:8080->80/tcp", "[::1]:8080->80/tcp".
std::string describe(const PortMapping& p);
// Its host side: "0.0.0.0:8080", "127.0.0.1:8080", "[::1]:8080".
std::string host_address(const PortMapping& p);
// Is its host address an IPv6 one?
bool is_ipv6(const PortMapping& p);
// Does publishing both at once collide (same protocol and host port, overlapping address)?
bool collides(const PortMapping& a, const PortMapping& b);

}  // namespace husk::network
