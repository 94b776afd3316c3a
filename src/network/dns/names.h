// The names a network's DNS responder answers (husk-dns): the engine writes them, the
// responder reads them. One line per container address: "IP NAME..." (its name, short
// id and aliases on that network), or "@CLIENT IP NAME..." for a name only the container
// at address CLIENT may resolve (one of its other networks'). Names are compared
// case-insensitively.
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

std::string format_names(const std::vector<NameEntry>& entries);

class NameTable {
  public:
    NameTable() = default;
    // Lines of format_names; a line without a name or with a bad address is skipped.
    static NameTable parse(const std::string& text);
    // The IPv4 addresses of `name` ("web" or "web."), any case, for a query of the
    // container at `client`; empty when unknown.
    std::vector<std::string> addresses(const std::string& name, const std::string& client) const;
    // The first name of the container at IPv4 `ptr` ("2.0.66.10.in-addr.arpa."), if any.
    std::optional<std::string> name_of(const std::string& ptr, const std::string& client) const;

  private:
    struct Scope {
        std::map<std::string, std::vector<std::string>> by_name;
        std::map<std::string, std::string> by_ptr;
    };
    // "" = every client's
    std::map<std::string, Scope> scopes_;
};

// "web." -> "web", lower case.
std::string canonical(const std::string& name);

}  // namespace husk::network::dns
