// Address leases of a husk network: one file per address under <ipam_dir>/<name>/,
// named by the address and holding "<container id>\r\n<ifname>", the same layout the
// CNI host-local plugin keeps (so leases it made for containers still running are
// respected), changed under an flock of <dir>/lock shared with it. Addresses are handed
// out after the last one given (last_reserved_ip.N), as host-local does, so a released
// address is not reused at once.
#pragma once

#include <string>
#include <vector>

#include "network/conflist.h"

namespace husk::network {

struct Lease {
    std::string ip;  // "10.66.0.5"
    int prefix = 0;  // the subnet's
    std::string gateway;
};

// Leases an IPv4 address of net.subnet, and one of net.subnet6 when it has one, to
// container `id`'s interface `ifname`: `requested` ("10.67.0.9" or "10.67.0.9/24";
// "" = the next free one) or the next free one. An interface that holds leases already
// gets them again. Throws husk::Error (nothing leased) when the subnet is full or the
// requested address is outside it, the gateway or taken:
//   requested IP address 10.67.0.9 is not available in network NAME
std::vector<Lease> lease_addresses(const Network& net, const std::string& id,
                                   const std::string& ifname, const std::string& requested = {});

// Releases every lease of container `id` on `net` (of `ifname` only, when given): what a
// run that died between leasing and recording its endpoint left too.
void release_addresses(const Network& net, const std::string& id, const std::string& ifname = {});

// The IPv4 address (`v6`: the IPv6 one) leased to `id`'s interface `ifname` on `net`, ""
// when none.
std::string leased_address(const Network& net, const std::string& id, const std::string& ifname,
                           bool v6 = false);

// The directory of the leases of `net`.
std::string lease_dir(const Network& net);

}  // namespace husk::network
