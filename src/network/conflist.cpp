#include "network/conflist.h"

#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sys/error.h"
#include "sys/fileutil.h"

namespace husk::network {

using nlohmann::json;

std::string conflist(const Network& net) {
    json ranges = json::array({json::array({{{"subnet", net.subnet}, {"gateway", net.gateway}}})});
    json routes = json::array();
    if (!net.internal) routes.push_back({{"dst", "0.0.0.0/0"}});
    if (!net.subnet6.empty()) {
        ranges.push_back(json::array({{{"subnet", net.subnet6}, {"gateway", net.gateway6}}}));
        if (!net.internal) routes.push_back({{"dst", "::/0"}});
    }
    json bridge = {
        {"type", "bridge"},
        {"bridge", net.bridge},
        {"isGateway", true},
        {"ipMasq", false},  // one rule for the subnet instead: masquerade.h
        {"hairpinMode", true},
        {"capabilities", {{"ips", true}}},
        {"ipam",
         {{"type", "host-local"},
          {"dataDir", net.ipam_dir},
          {"ranges", ranges},
          {"routes", routes}}},
    };
    json portmap = {
        {"type", "portmap"}, {"capabilities", {{"portMappings", true}}}, {"snat", true}};
    json firewall = {{"type", "firewall"}, {"backend", "iptables"}};
    json list = {{"cniVersion", "1.0.0"},
                 {"name", net.name},
                 {"plugins", json::array({bridge, portmap, firewall})}};
    return list.dump(2);
}

std::string cni_network_name(const std::string& network) {
    return network.starts_with("cni:") ? network.substr(4) : std::string{};
}

std::string find_conflist(const std::string& name) {
    if (name.empty() || name.front() == '.' ||
        name.find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
            std::string::npos)
        throw Error(
            error_format("invalid CNI network name \"{}\", only [a-zA-Z0-9_.-] are allowed", name));
    const char* env = std::getenv("NETCONFPATH");
    std::string dir = env && *env ? env : "/etc/cni/net.d";
    for (auto& f : sys::list_dir(dir)) {
        bool single = f.ends_with(".conf") || f.ends_with(".json");
        if (!single && !f.ends_with(".conflist")) continue;
        json conf;
        try {
            conf = json::parse(sys::read_file(fmt::format("{}/{}", dir, f)));
        } catch (const std::exception&) {
            continue;  // another file's problem, not this network's
        }
        if (!conf.is_object() || conf.value("name", "") != name) continue;
        if (!conf.contains("plugins")) {
            json list = {{"cniVersion", conf.value("cniVersion", "1.0.0")}, {"name", name}};
            list["plugins"] = json::array({conf});
            conf = list;
        }
        return conf.dump(2);
    }
    throw Error(error_format("network cni:{} not found: no CNI configuration named {} in {}", name,
                             name, dir));
}

std::vector<std::string> plugin_types(const std::string& conflist) {
    std::vector<std::string> out;
    json list = json::parse(conflist);
    for (auto& p : list.at("plugins")) out.push_back(p.at("type"));
    return out;
}

std::string plugin_config(const std::string& conflist, size_t index,
                          const std::vector<PortMapping>& ports, const std::string& prev_result,
                          const std::vector<std::string>& ips) {
    json list = json::parse(conflist);
    json conf = list.at("plugins").at(index);
    conf["name"] = list.at("name");
    conf["cniVersion"] = list.at("cniVersion");
    if (conf.contains("capabilities") && conf["capabilities"].value("portMappings", false)) {
        json maps = json::array();
        for (auto& p : ports) {
            json m = {{"hostPort", p.host_port},
                      {"containerPort", p.container_port},
                      {"protocol", p.protocol}};
            if (!p.host_ip.empty()) m["hostIP"] = p.host_ip;
            maps.push_back(m);
        }
        conf["runtimeConfig"]["portMappings"] = maps;
    }
    if (!ips.empty() && conf.contains("capabilities") && conf["capabilities"].value("ips", false))
        conf["runtimeConfig"]["ips"] = ips;
    if (!prev_result.empty()) conf["prevResult"] = json::parse(prev_result);
    return conf.dump();
}

}  // namespace husk::network
