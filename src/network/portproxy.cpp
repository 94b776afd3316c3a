#include "network/portproxy.h"

#include <fmt/format.h>

#include "network/daemon.h"
#include "network/statepath.h"
#include "sys/error.h"

namespace husk::network {

namespace {

std::string proxy_dir(const std::string& container_id, const std::string& ifname) {
    return state_path(fmt::format("/run/husk-proxy/{}.{}", container_id, ifname));
}

}  // namespace

bool proxied(const PortMapping& p, bool has_ip6) {
    return p.host_ip == "::1" || (has_ip6 && (p.host_ip.empty() || p.host_ip == "::"));
}

std::vector<std::string> proxy_args(const std::vector<PortMapping>& ports, const std::string& ip,
                                    const std::string& ip6) {
    std::vector<std::string> out;
    for (auto& p : ports) {
        if (!proxied(p, !ip6.empty()) || p.host_port == 0) continue;
        const std::string& to = ip6.empty() ? ip : ip6;  // ::1 without IPv6: to the IPv4 one
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
