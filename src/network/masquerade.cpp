#include "network/masquerade.h"

#include <string>
#include <string_view>
#include <vector>

#include "network/iptables.h"

namespace husk::network {

namespace {

std::vector<std::string> rule(const Network& net) {
    return {"-s",      net.subnet,  "!",
            "-d",      net.subnet,  "-m",
            "comment", "--comment", "husk network " + net.name,
            "-j",      "MASQUERADE"};
}

}  // namespace

void remove_masquerade(const Network& net) {
    delete_rule("nat", "POSTROUTING", rule(net));
}

void remove_all_masquerades() {
    // -A POSTROUTING -s SUBNET ! -d SUBNET -m comment --comment "husk network NAME" -j MASQUERADE
    const std::string_view mark = "--comment \"husk network ";
    const std::string text = list_rules("nat", "POSTROUTING");
    for (std::string_view rest = text; !rest.empty();) {
        const size_t nl = rest.find('\n');
        const std::string_view line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
        size_t c = line.find(mark), s = line.find("-s ");
        if (c == std::string_view::npos || s == std::string_view::npos ||
            !line.ends_with("-j MASQUERADE"))
            continue;
        size_t name_end = line.find('"', c + mark.size());
        size_t subnet_end = line.find(' ', s + 3);
        if (name_end == std::string_view::npos || subnet_end == std::string_view::npos) continue;
        Network net;
        net.name = line.substr(c + mark.size(), name_end - c - mark.size());
        net.subnet = line.substr(s + 3, subnet_end - s - 3);
        remove_masquerade(net);
    }
}

}  // namespace husk::network
