#include "network/veth.h"

#include <fcntl.h>

#include <array>

#include <fmt/format.h>

#include "network/subnet.h"
#include "sys/error.h"
#include "sys/fd.h"

namespace husk::network {

std::array<uint8_t, 6> mac_bytes(const std::string& ipv4) {
    nl::IpAddr a = nl::IpAddr::parse(ipv4);
    return {0x02, 0x42, a.bytes[0], a.bytes[1], a.bytes[2], a.bytes[3]};
}

std::string host_veth_name(const std::string& container_id, const std::string& network,
                           const std::string& ifname) {
    // FNV-1a: stable across versions, unlike std::hash
    uint32_t h = 2166136261U;
    for (const std::string* s : {&container_id, &network, &ifname}) {
        for (unsigned char c : *s) h = (h ^ c) * 16777619U;
        h = (h ^ '/') * 16777619U;
    }
    return fmt::format("veth{:08x}", h);
}

std::string mac_of(const std::string& ipv4) {
    auto m = mac_bytes(ipv4);
    return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4],
                       m[5]);
}

void add_veth(nl::Socket& host, unsigned bridge, const std::string& host_name,
              const std::string& netns_path, const std::string& ifname,
              const std::vector<Lease>& leases, bool default_routes) {
    sys::UniqueFd ns(::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns) throw_sys("open the network namespace", netns_path);
    auto mac = mac_bytes(leases.at(0).ip);
    int err = host.create_veth(host_name, bridge, ifname, ns.get(), mac);
    if (err == EEXIST && host.link_index(host_name) != 0) {
        delete_veth(host, host_name);  // a killed run's
        err = host.create_veth(host_name, bridge, ifname, ns.get(), mac);
    }
    nl::check(err, "create the veth pair",
              fmt::format("{} ({} in the container)", host_name, ifname));
    unsigned index = host.link_index(host_name);
    nl::check(host.set_hairpin(index), "set hairpin mode on", host_name);

    nl::Socket inside = nl::Socket::in_netns(netns_path);
    unsigned cindex = inside.link_index(ifname);
    if (cindex == 0) throw SysError("find in the container", ifname, ENODEV);
    for (auto& l : leases) {
        auto addr = nl::IpAddr::parse(l.ip);
        nl::check(inside.add_address(cindex, addr, l.prefix, addr.family == AF_INET6),
                  fmt::format("add the address {} to", l.ip), ifname);
    }
    nl::check(inside.set_up(cindex), "bring up", ifname);
    if (!default_routes) return;
    // a container on several networks keeps the default route of the first (as docker)
    for (auto& l : leases) {
        int err = inside.add_default_route(cindex, nl::IpAddr::parse(l.gateway));
        if (err != EEXIST)
            nl::check(err, fmt::format("add the default route via {} on", l.gateway), ifname);
    }
}

void delete_veth(nl::Socket& host, const std::string& host_name) {
    int err = host.delete_link(host_name);
    if (err != 0 && err != ENODEV) nl::check(err, "delete the veth", host_name);
}

}  // namespace husk::network
