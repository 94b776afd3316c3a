// The names a network's DNS responder answers (husk-dns): the engine writes them, the
// responder reads them. One line per container address: "IP NAME..." (its name, short
// id and aliases on that network). Names are compared case-insensitively.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace husk::network::dns {

struct NameEntry {
    std::string ip;
    std::vector<std::string> names;
};

std::string format_names(const std::vector<NameEntry>& entries);

class NameTable {
  public:
    NameTable() = default;
    // Lines of format_names; a line without a name or with a bad address is skipped.
    static NameTable parse(const std::string& text);
    // The IPv4 addresses of `name` ("web" or "web."), any case; empty when unknown.
    const std::vector<std::string>* addresses(const std::string& name) const;
    // The first name of the container at IPv4 `ptr` ("2.0.66.10.in-addr.arpa."), if any.
    const std::string* name_of(const std::string& ptr) const;
    size_t size() const { return by_name_.size(); }

  private:
    std::map<std::string, std::vector<std::string>> by_name_;
    std::map<std::string, std::string> by_ptr_;
};

// "web." -> "web", lower case.
std::string canonical(const std::string& name);

}  // namespace husk::network::dns
