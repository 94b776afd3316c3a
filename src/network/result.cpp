#include "network/result.h"

#include <nlohmann/json.hpp>

#include "sys/error.h"

namespace husk::network {

Address parse_result(const std::string& result) {
    auto j = nlohmann::json::parse(result);
    auto ifaces = j.value("interfaces", nlohmann::json::array());
    for (auto& ip : j.value("ips", nlohmann::json::array())) {
        std::string cidr = ip.value("address", "");
        size_t slash = cidr.find('/');
        if (cidr.find(':') != std::string::npos || slash == std::string::npos) continue;
        Address a;
        a.ip = cidr.substr(0, slash);
        a.prefix_len = std::stoi(cidr.substr(slash + 1));
        a.gateway = ip.value("gateway", "");
        if (ip.contains("interface")) {
            size_t i = ip["interface"].get<size_t>();
            if (i < ifaces.size()) a.mac = ifaces[i].value("mac", "");
        }
        if (a.mac.empty())
            for (auto& f : ifaces)
                if (f.contains("sandbox")) a.mac = f.value("mac", "");
        return a;
    }
    throw Error("the network's result has no IPv4 address");
}

}  // namespace husk::network
