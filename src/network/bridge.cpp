#include "network/bridge.h"

#include <fmt/format.h>

#include "network/subnet.h"
#include "network/veth.h"
#include "sys/error.h"
#include "sys/fileutil.h"

namespace husk::network {

namespace {

// Writes "1" to the sysctl file `path` unless it holds it.
void sysctl_on(const std::string& path) {
    auto now = sys::read_file_if_exists(path);
    if (now && now->starts_with("1")) return;
    sys::write_file(path, "1");
}

int prefix_of(const std::string& subnet) {
    return parse_cidr(subnet).prefix;
}

}  // namespace

// The bridge's MAC address is set, not left to the kernel: a bridge without one takes
// the lowest of its ports' addresses, so a container joining with a lower one changed the
// gateway's MAC under the containers already there, whose ARP caches kept the old one:
// no reply from the gateway (its DNS responder, the way out) for tens of seconds.
unsigned ensure_bridge(nl::Socket& host, const Network& net) {
    unsigned index = host.link_index(net.bridge);
    bool made = false;
    auto mac = mac_bytes(net.gateway);
    if (index == 0) {
        int err = host.create_bridge(net.bridge, mac);
        if (err != 0 && err != EEXIST) nl::check(err, "create the bridge", net.bridge);
        made = err == 0;
        index = host.link_index(net.bridge);
        if (index == 0) throw SysError("create the bridge", net.bridge, ENODEV);
    }
    // a bridge an earlier husk made without one (NET_ADDR_SET is 3) gets it, once: the
    // containers already on it see the gateway's MAC change that one last time
    if (!made) {
        auto assigned =
            sys::read_file_if_exists(fmt::format("/sys/class/net/{}/addr_assign_type", net.bridge));
        if (assigned && !assigned->starts_with("3"))
            nl::check(host.set_address(index, mac), "set the MAC address of", net.bridge);
    }
    nl::check(host.add_address(index, nl::IpAddr::parse(net.gateway), prefix_of(net.subnet), false),
              "add the gateway address to", net.bridge);
    if (!net.subnet6.empty())
        nl::check(
            host.add_address(index, nl::IpAddr::parse(net.gateway6), prefix_of(net.subnet6), true),
            "add the IPv6 gateway address to", net.bridge);
    nl::check(host.set_up(index), "bring up", net.bridge);
    if (made) {
        sysctl_on("/proc/sys/net/ipv4/ip_forward");
        sysctl_on(fmt::format("/proc/sys/net/ipv4/conf/{}/route_localnet", net.bridge));
        if (!net.subnet6.empty()) sysctl_on("/proc/sys/net/ipv6/conf/all/forwarding");
    }
    return index;
}

}  // namespace husk::network
