#include "network/portproxy.h"

#include <fmt/format.h>

#include "network/daemon.h"
#include "sys/error.h"

namespace husk::network {

namespace {

std::string proxy_dir(const std::string& container_id, const std::string& ifname) {
    return fmt::format("/run/husk-proxy/{}.{}", container_id, ifname);
}

}  // namespace

std::vector<std::string> proxy_args(const std::vector<PortMapping>& ports, const std::string& ip,
                                    const std::string& ip6) {
    std::vector<std::string> out;
    for (auto& p : ports) {
        std::string to;
        if (p.host_ip == "::1")
            to = ip6.empty() ? ip : ip6;
        else if (p.host_ip.empty() || p.host_ip == "::")
            to = ip6;
        if (to.empty() || p.host_port == 0) continue;
        out.insert(out.end(), {p.protocol, "::1", std::to_string(p.host_port), to,
                               std::to_string(p.container_port)});
    }
    return out;
}

void start_proxy(const std::string& helper, const std::string& container_id,
                 const std::string& ifname, const std::vector<PortMapping>& ports,
                 const std::string& ip, const std::string& ip6) {
    std::vector<std::string> groups = proxy_args(ports, ip, ip6);
    if (groups.empty()) return;
    if (helper.empty())
        throw Error("publish ports on [::1]: husk-proxy is not installed next to husk");
    std::string dir = proxy_dir(container_id, ifname);
    std::vector<std::string> args = {helper, dir};
    args.insert(args.end(), groups.begin(), groups.end());
    try {
        // one left by a killed run of this very endpoint serves other addresses: replaced
        if (!start_daemon(dir, args)) {
            stop_daemon(dir);
            start_daemon(dir, std::move(args));
        }
    } catch (const Error& e) {
        try {
            stop_daemon(dir);  // its log and lock
        } catch (const Error&) {
        }
        throw Error(
            fmt::format("publish ports on [::1] for container {}: {}", container_id, e.what()));
    }
}

void stop_proxy(const std::string& container_id, const std::string& ifname) {
    stop_daemon(proxy_dir(container_id, ifname));
}

}  // namespace husk::network
