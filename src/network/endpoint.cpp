#include "network/endpoint.h"

#include <nlohmann/json.hpp>

#include "network/cni.h"
#include "network/masquerade.h"
#include "network/netns.h"
#include "sys/error.h"
#include "sys/log.h"

namespace husk::network {

Endpoint connect(const Network& net, const std::string& container_id, pid_t pid,
                 const std::string& netns_pin, std::vector<PortMapping> ports,
                 const std::string& ifname, const std::vector<std::string>& ips) {
    Endpoint ep;
    ep.ifname = ifname;
    ep.ips = ips;
    ep.container_id = container_id;
    ep.netns_pin = netns_pin;
    ep.ports = std::move(ports);
    ep.conflist = conflist(net);
    if (!net.internal) ensure_masquerade(net);
    pin_netns(pid, netns_pin);
    try {
        ep.result = cni_add(ep.conflist, {container_id, netns_pin, ep.ifname, ep.ports, ep.ips});
        try {
            ep.address = parse_result(ep.result);
        } catch (...) {
            cni_del(ep.conflist, {container_id, netns_pin, ep.ifname, ep.ports, ep.ips}, ep.result);
            throw;
        }
    } catch (...) {
        unpin_netns(netns_pin);
        throw;
    }
    return ep;
}

void disconnect(const Endpoint& ep) {
    try {
        cni_del(ep.conflist, {ep.container_id, ep.netns_pin, ep.ifname, ep.ports, ep.ips},
                ep.result);
    } catch (...) {
        unpin_netns(ep.netns_pin);
        throw;
    }
    unpin_netns(ep.netns_pin);
}

std::string to_json(const Endpoint& ep) {
    nlohmann::json ports = nlohmann::json::array();
    for (auto& p : ep.ports) ports.push_back(to_string(p));
    nlohmann::json j = {{"container_id", ep.container_id},
                        {"netns", ep.netns_pin},
                        {"ports", ports},
                        {"ifname", ep.ifname},
                        {"ips", ep.ips},
                        {"conflist", nlohmann::json::parse(ep.conflist)},
                        {"result", nlohmann::json::parse(ep.result.empty() ? "null" : ep.result)}};
    return j.dump(2);
}

Endpoint endpoint_from_json(const std::string& text) {
    auto j = nlohmann::json::parse(text);
    Endpoint ep;
    ep.container_id = j.value("container_id", "");
    ep.netns_pin = j.value("netns", "");
    ep.ifname = j.value("ifname", "eth0");
    ep.ips = j.value("ips", std::vector<std::string>{});
    ep.conflist = j.contains("conflist") ? j["conflist"].dump() : conflist(Network{});
    for (auto& p : j.value("ports", std::vector<std::string>{}))
        ep.ports.push_back(parse_publish(p));
    if (j.contains("result") && !j["result"].is_null()) {
        ep.result = j["result"].dump();
        ep.address = parse_result(ep.result);
    }
    return ep;
}

}  // namespace husk::network
