#include "network/masquerade.h"

#include <string>
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

void ensure_masquerade(const Network& net) {
    ensure_rule("nat", "POSTROUTING", rule(net));
}

void remove_masquerade(const Network& net) {
    delete_rule("nat", "POSTROUTING", rule(net));
}

}  // namespace husk::network
