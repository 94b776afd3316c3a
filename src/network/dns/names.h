// The names a network's DNS responder answers (husk-dns): the engine writes them, the
// responder reads them. One line per container address, IPv4 or IPv6: "IP NAME..." (its
// name, short id and aliases on that network), or "@CLIENT IP NAME..." for a name only the
// container at address CLIENT may resolve (one of its other networks'). Names are
// compared case-insensitively. And where other names are forwarded, when not to the
// host's resolvers: "nameservers * SERVER..." (the network's, `network create --dns`),
// "nameservers CLIENT SERVER..." (the container at CLIENT's, `run --dns`).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace husk::network::dns {

struct NameEntry {
    std::string ip;
    std::vector<std::string> names;
    std::string client;  // "": for every container of the network
};

// The upstream name servers of a client ("" = the network's: every client without its own).
using Upstreams = std::map<std::string, std::vector<std::string>>;

std::string format_names(const std::vector<NameEntry>& entries, const Upstreams& upstreams = {});

class NameTable {
  public:
    NameTable() = default;
    // Lines of format_names; a line without a name or with a bad address is skipped.
    static NameTable parse(const std::string& text);
    // Is `name` ("web" or "web."), any case, one of ours for a query of the container at
    // `client`?
    bool known(const std::string& name, const std::string& client) const;
    // Its addresses of `family` (AF_INET or AF_INET6), in the file's order; empty when
    // unknown or when it has none of that family.
    std::vector<std::string> addresses(const std::string& name, const std::string& client,
                                       int family) const;
    // The first name of the container at `ptr` ("2.0.66.10.in-addr.arpa.", or an
    // ip6.arpa name of 32 nibbles), if any.
    std::optional<std::string> name_of(const std::string& ptr, const std::string& client) const;
    // Where names not ours are forwarded for `client`: its own servers, else the
    // network's; empty: the host's resolvers.
    std::vector<std::string> upstreams(const std::string& client) const;

  private:
    struct Scope {
        std::map<std::string, std::vector<std::string>> by_name;
        std::map<std::string, std::string> by_ptr;
    };
    // "" = every client's
    std::map<std::string, Scope> scopes_;
    Upstreams upstreams_;
};

// "web." -> "web", lower case.
std::string canonical(const std::string& name);

// The reverse-lookup name of an address: "5.0.89.10.in-addr.arpa", or the 32 nibbles of
// an IPv6 one under ip6.arpa; "" for text that is no address.
std::string reverse_name(const std::string& ip);

}  // namespace husk::network::dns
