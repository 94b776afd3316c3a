// What a CNI result (spec 1.0) says of the container's interface.
#pragma once

#include <string>

namespace husk::network {

struct Address {
    std::string ip;       // "10.66.0.5"
    int prefix_len = 0;   // 16
    std::string gateway;  // "10.66.0.1"
    std::string mac;      // of the container's interface
};

// The first IPv4 address of the result, and the MAC of the interface it is on (the
// interface in the container's namespace: the one with a "sandbox"). Throws on a result
// without an address.
Address parse_result(const std::string& result);

}  // namespace husk::network
