#include "engine/port.h"

#include <fmt/format.h>

#include "engine/network.h"
#include "sys/error.h"

namespace husk::engine {

std::vector<std::string> port_lines(const EngineContext& ctx, const ContainerRecord& rec,
                                    const std::string& private_port) {
    std::string want_port = private_port, want_proto = "tcp";
    if (size_t slash = private_port.find('/'); slash != std::string::npos) {
        want_port = private_port.substr(0, slash);
        want_proto = private_port.substr(slash + 1);
    }
    if (!private_port.empty() &&
        (want_port.empty() || want_port.find_first_not_of("0123456789") != std::string::npos ||
         (want_proto != "tcp" && want_proto != "udp" && want_proto != "sctp")))
        throw Error(error_format("Invalid port \"{}\"", private_port), ExitCode{1});
    std::vector<std::string> out;
    if (rec.status != ContainerStatus::running) {
        if (!private_port.empty())
            throw Error(error_format("No public port '{}/{}' published for {}", want_port,
                                     want_proto, rec.name),
                        ExitCode{1});
        return out;
    }
    std::vector<network::PortMapping> ports;
    if (auto ep = container_endpoint(ctx, rec.id)) ports = ep->ports;
    for (auto& p : ports) {
        std::string host = network::host_address(p);
        if (private_port.empty())
            out.push_back(fmt::format("{}/{} -> {}", p.container_port, p.protocol, host));
        else if (std::to_string(p.container_port) == want_port && p.protocol == want_proto)
            out.push_back(host);
    }
    if (!private_port.empty() && out.empty())
        throw Error(error_format("No public port '{}/{}' published for {}", want_port, want_proto,
                                 rec.name),
                    ExitCode{1});
    return out;
}

}  // namespace husk::engine
