// Owners of what ldns hands out: its packets (ldns_pkt_free) and its malloc'ed text and
// wire buffers (free). Shared by the responder and its unit tests.
#pragma once

#include <ldns/ldns.h>

#include <cstdlib>
#include <memory>

namespace husk::network::dns {

struct PktFree {
    void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using PktPtr = std::unique_ptr<ldns_pkt, PktFree>;

struct CFree {
    // NOLINTNEXTLINE(cppcoreguidelines-no-malloc,cppcoreguidelines-owning-memory)
    void operator()(void* p) const { std::free(p); }
};
template <typename T>
using MallocPtr = std::unique_ptr<T, CFree>;

}  // namespace husk::network::dns
