#include "network/dns/control.h"

#include <fmt/format.h>

#include "network/daemon.h"
#include "network/statepath.h"
#include "sys/error.h"
#include "sys/fileutil.h"

namespace husk::network::dns {

namespace {

std::string root() {
    return state_path("/run/husk-dns");
}

}  // namespace

std::string responder_dir(const std::string& network_id) {
    return fmt::format("{}/{}", root(), network_id);
}

void write_names(const std::string& network_id, const std::vector<NameEntry>& entries,
                 const Upstreams& upstreams) {
    std::string dir = responder_dir(network_id);
    sys::mkdir_all(dir, 0700);
    sys::write_file_atomic(dir + "/names", format_names(entries, upstreams), 0600);
}

void ensure_responder(const std::string& network_id, const std::string& network_name,
                      const std::string& gateway, const std::string& subnet, bool forward,
                      const std::string& helper, const std::string& loopback_via) {
    std::string dir = responder_dir(network_id);
    std::vector<std::string> args = {helper, dir, gateway, subnet};
    if (!forward)
        args.emplace_back("--no-forward");
    else if (!loopback_via.empty())
        args.insert(args.end(), {"--loopback-via", loopback_via});
    try {
        start_daemon(dir, std::move(args));
    } catch (const Error& e) {
        throw Error(fmt::format("start the DNS responder of network {} on {}:53: {}", network_name,
                                gateway, e.what()));
    }
}

void stop_responder(const std::string& network_id) {
    stop_daemon(responder_dir(network_id));
}

}  // namespace husk::network::dns
