// One DNS query of a container, decided: answered from the network's names (A and AAAA
// records, NODATA for their other types, PTR for their addresses), or forwarded upstream
// (the container's --dns, the network's, else the host's resolvers). The wire format is ldns's.
#pragma once

#include <cstdint>
#include <vector>

#include "network/dns/names.h"

namespace husk::network::dns {

inline constexpr uint32_t kTtl = 10;  // seconds: containers come and go

using Packet = std::vector<uint8_t>;

struct Decision {
    enum class Kind : uint8_t {
        reply,    // send `packet` back
        forward,  // not ours: ask the upstream resolvers
        drop,     // not a DNS query at all
    };
    Kind kind = Kind::drop;
    Packet packet;
};

// `client`: the address the query came from (names scoped to it count).
Decision decide(const Packet& query, const NameTable& names, const std::string& client);

// The reply with rcode SERVFAIL to `query` (no resolver answered); empty when `query`
// cannot be parsed.
Packet servfail(const Packet& query);

}  // namespace husk::network::dns
