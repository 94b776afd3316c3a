#include "network/pasta.h"

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/fileutil.h"

namespace husk::network {

namespace {

// pasta's -t/-u value for one mapping: [ADDRESS/]HOSTPORT:CONTAINERPORT.
std::string forward_spec(const PortMapping& p) {
    std::string spec = p.host_ip.empty() ? "" : p.host_ip + "/";
    return spec + fmt::format("{}:{}", p.host_port, p.container_port);
}

}  // namespace

std::vector<std::string> pasta_args(const std::string& pasta, const std::string& dir,
                                    const std::string& userns, const std::string& netns,
                                    const std::vector<PortMapping>& ports) {
    std::vector<std::string> args{pasta, "--config-net", "--foreground", "--quiet"};
    for (const char* proto : {"tcp", "udp"}) {
        bool any = false;
        for (auto& p : ports)
            if (p.protocol == proto) {
                args.insert(args.end(),
                            {proto == std::string("tcp") ? "-t" : "-u", forward_spec(p)});
                any = true;
            }
        if (!any) args.insert(args.end(), {proto == std::string("tcp") ? "-t" : "-u", "none"});
    }
    // nothing from the namespace to the host's ports but through the gateway's address
    args.insert(args.end(), {"-T", "none", "-U", "none", "--dns-forward", kPastaDnsForward});
    args.insert(args.end(), {"--pid", dir + "/ready", "--netns", netns, "--userns", userns});
    return args;
}

void start_pasta(const std::string& dir, pid_t pid, const std::vector<PortMapping>& ports) {
    std::string pasta = sys::find_on_path("pasta");
    if (pasta.empty())
        throw Error(
            "rootless: the default network is pasta's user-mode network and pasta is not "
            "installed: install the passt package, or run with --network none or host");
    // the init stays dumpable until its execve for this (runtime Plan::dumpable_until_exec)
    UsernetHelper helper{
        "pasta",
        pasta_args(pasta, dir, fmt::format("/proc/{}/ns/user", pid),
                   fmt::format("/proc/{}/ns/net", pid), ports),
        {-1, -1, -1},
        [&dir] { return !sys::read_file_if_exists(dir + "/ready").value_or("").empty(); }};
    start_helper(dir, pid, helper);
}

}  // namespace husk::network
