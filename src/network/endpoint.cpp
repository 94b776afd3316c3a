#include "network/endpoint.h"

#include <nlohmann/json.hpp>

#include "network/bridge.h"
#include "network/cni.h"
#include "network/ipam.h"
#include "network/netlink.h"
#include "network/netns.h"
#include "network/nft.h"
#include "network/portproxy.h"
#include "network/veth.h"
#include "sys/error.h"
#include "sys/log.h"
#include "sys/scope_guard.h"

namespace husk::network {

namespace {

Attach attach_of(const Endpoint& ep) {
    return {ep.container_id, ep.netns_pin, ep.ifname, ep.ports, ep.ips};
}

Endpoint connect_cni(Endpoint ep, pid_t pid) {
    pin_netns(pid, ep.netns_pin);
    try {
        ep.result = cni_add(ep.conflist, attach_of(ep));
        try {
            ep.address = parse_result(ep.result);
        } catch (...) {
            cni_del(ep.conflist, attach_of(ep), ep.result);
            throw;
        }
    } catch (...) {
        unpin_netns(ep.netns_pin);
        throw;
    }
    return ep;
}

void disconnect_cni(const Endpoint& ep) {
    try {
        cni_del(ep.conflist, attach_of(ep), ep.result);
    } catch (...) {
        unpin_netns(ep.netns_pin);
        throw;
    }
    unpin_netns(ep.netns_pin);
}

// Runs each step of a teardown whatever the others did; throws the first failure.
class Steps {
  public:
    template <class Fn>
    void run(Fn&& fn) {
        try {
            fn();
        } catch (const std::exception& e) {
            if (first_.empty()) first_ = e.what();
        }
    }
    void finish(const std::string& container_id) const {
        if (!first_.empty())
            throw Error(error_format("disconnect container {}: {}", container_id, first_));
    }

  private:
    std::string first_;
};

void disconnect_native(const Endpoint& ep) {
    const Network& net = ep.network;
    std::string ip = ep.address.ip, ip6 = ep.ip6;
    Steps steps;
    if (ip.empty() && !ep.ports.empty())  // a run killed before it recorded its address
        steps.run([&] {
            ip = leased_address(net, ep.container_id, ep.ifname);
            if (!net.subnet6.empty()) ip6 = leased_address(net, ep.container_id, ep.ifname, true);
        });
    if (!ip.empty()) steps.run([&] { nft_disconnect(ip, ip6, ep.ports); });
    steps.run([&] { stop_proxy(ep.container_id, ep.ifname); });
    steps.run([&] {
        nl::Socket host;
        delete_veth(host, ep.host_veth.empty()
                              ? host_veth_name(ep.container_id, net.name, ep.ifname)
                              : ep.host_veth);
    });
    steps.run([&] { release_addresses(net, ep.container_id, ep.ifname); });
    steps.run([&] { unpin_netns(ep.netns_pin); });
    steps.finish(ep.container_id);
}

Endpoint connect_native(Endpoint ep, pid_t pid) {
    const Network& net = ep.network;
    pin_netns(pid, ep.netns_pin);
    sys::ScopeGuard undo([&]() noexcept {
        try {
            disconnect_native(ep);
        } catch (const std::exception& e) {
            log::warn("cleaning up after a failed network setup: {}", e.what());
        }
    });
    auto leases =
        lease_addresses(net, ep.container_id, ep.ifname, ep.ips.empty() ? "" : ep.ips.front());
    ep.address.ip = leases.front().ip;
    ep.address.prefix_len = leases.front().prefix;
    ep.address.gateway = leases.front().gateway;
    ep.address.mac = mac_of(ep.address.ip);
    if (leases.size() > 1) ep.ip6 = leases[1].ip;
    nl::Socket host;
    unsigned bridge = ensure_bridge(host, net);
    add_veth(host, bridge, ep.host_veth, ep.netns_pin, ep.ifname, leases, !net.internal);
    nft_connect(net, ep.address.ip, ep.ip6, ep.ports);
    start_proxy(ep.proxy_helper, ep.container_id, ep.ifname, ep.ports, ep.address.ip, ep.ip6);
    undo.dismiss();
    return ep;
}

nlohmann::json network_json(const Network& n) {
    return {{"name", n.name},         {"bridge", n.bridge},    {"subnet", n.subnet},
            {"gateway", n.gateway},   {"subnet6", n.subnet6},  {"gateway6", n.gateway6},
            {"ipam_dir", n.ipam_dir}, {"internal", n.internal}};
}

Network network_of(const nlohmann::json& j) {
    Network n;
    n.name = j.value("name", n.name);
    n.bridge = j.value("bridge", n.bridge);
    n.subnet = j.value("subnet", n.subnet);
    n.gateway = j.value("gateway", n.gateway);
    n.subnet6 = j.value("subnet6", "");
    n.gateway6 = j.value("gateway6", "");
    n.ipam_dir = j.value("ipam_dir", n.ipam_dir);
    n.internal = j.value("internal", false);
    return n;
}

}  // namespace

Endpoint reserve(const Network& net, const std::string& container_id, const std::string& netns_pin,
                 std::vector<PortMapping> ports, const std::string& ifname,
                 const std::vector<std::string>& ips) {
    Endpoint ep;
    ep.kind = EndpointKind::native;
    ep.network = net;
    ep.container_id = container_id;
    ep.netns_pin = netns_pin;
    ep.ports = std::move(ports);
    ep.ifname = ifname;
    ep.ips = ips;
    ep.host_veth = host_veth_name(container_id, net.name, ifname);
    return ep;
}

Endpoint reserve_cni(const std::string& conflist, const std::string& container_id,
                     const std::string& netns_pin, std::vector<PortMapping> ports,
                     const std::string& ifname) {
    Endpoint ep = reserve(Network{}, container_id, netns_pin, std::move(ports), ifname);
    ep.kind = EndpointKind::cni;
    ep.conflist = conflist;
    ep.host_veth.clear();
    return ep;
}

Endpoint connect(Endpoint reserved, pid_t pid) {
    if (reserved.kind == EndpointKind::cni) return connect_cni(std::move(reserved), pid);
    return connect_native(std::move(reserved), pid);
}

void disconnect(const Endpoint& ep) {
    if (ep.kind == EndpointKind::cni)
        disconnect_cni(ep);
    else
        disconnect_native(ep);
}

std::string to_json(const Endpoint& ep) {
    nlohmann::json ports = nlohmann::json::array();
    for (auto& p : ep.ports) ports.push_back(to_string(p));
    nlohmann::json j = {{"container_id", ep.container_id},
                        {"netns", ep.netns_pin},
                        {"ports", ports},
                        {"ifname", ep.ifname},
                        {"ips", ep.ips}};
    if (ep.kind == EndpointKind::native) {
        j["kind"] = "native";
        j["network"] = network_json(ep.network);
        j["host_veth"] = ep.host_veth;
        j["address"] = {{"ip", ep.address.ip},
                        {"prefix_len", ep.address.prefix_len},
                        {"gateway", ep.address.gateway},
                        {"mac", ep.address.mac},
                        {"ip6", ep.ip6}};
    } else {
        j["kind"] = "cni";
        j["conflist"] = nlohmann::json::parse(ep.conflist);
        j["result"] = nlohmann::json::parse(ep.result.empty() ? "null" : ep.result);
    }
    return j.dump(2);
}

Endpoint endpoint_from_json(const std::string& text) {
    auto j = nlohmann::json::parse(text);
    Endpoint ep;
    ep.container_id = j.value("container_id", "");
    ep.netns_pin = j.value("netns", "");
    ep.ifname = j.value("ifname", "eth0");
    ep.ips = j.value("ips", std::vector<std::string>{});
    for (auto& p : j.value("ports", std::vector<std::string>{}))
        ep.ports.push_back(parse_publish(p));
    if (j.value("kind", "") == "native") {
        ep.kind = EndpointKind::native;
        ep.network = network_of(j.value("network", nlohmann::json::object()));
        ep.host_veth = j.value("host_veth", "");
        auto a = j.value("address", nlohmann::json::object());
        ep.address.ip = a.value("ip", "");
        ep.address.prefix_len = a.value("prefix_len", 0);
        ep.address.gateway = a.value("gateway", "");
        ep.address.mac = a.value("mac", "");
        ep.ip6 = a.value("ip6", "");
        return ep;
    }
    // recorded by the CNI path (a husk of before, or a users' conflist)
    ep.kind = EndpointKind::cni;
    ep.conflist = j.contains("conflist") ? j["conflist"].dump() : conflist(Network{});
    if (j.contains("result") && !j["result"].is_null()) {
        ep.result = j["result"].dump();
        ep.address = parse_result(ep.result);
    }
    return ep;
}

}  // namespace husk::network
