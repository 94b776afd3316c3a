// User-defined networks (husk network create) as records under the data root:
// <data root>/networks/<name>.json, changed under <data root>/networks/.lock. Their
// subnets are reserved host-wide in /var/lib/cni/husk-subnets/<id>.json (every data
// root's networks share the host's routing), so no two networks of any husk overlap.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "network/conflist.h"
#include "sys/fd.h"

namespace husk::network {

struct NetworkRecord {
    std::string id;  // 64 hex digits
    std::string name;
    std::string created;  // RFC 3339
    std::string subnet, gateway;
    std::string subnet6, gateway6;  // with --ipv6
    bool internal = false;
    std::map<std::string, std::string> labels;
    // --dns: where its DNS responder forwards the names it does not own (empty: the host's
    // resolvers); a container's own --dns come first
    std::vector<std::string> dns;

    std::string bridge() const { return "husk" + id.substr(0, 10); }
    // The CNI network its containers join.
    Network cni() const;
};

std::string to_json(const NetworkRecord& n);
NetworkRecord network_from_json(const std::string& text);

// What `husk network create` asks for.
struct NetworkSpec {
    std::string name;
    std::string subnet, gateway;  // "" = chosen
    bool ipv6 = false;
    std::string subnet6, gateway6;  // with ipv6; "" = chosen (fd00:<random>::/64)
    bool internal = false;
    std::map<std::string, std::string> labels;
    std::vector<std::string> dns;  // upstream name servers (IPv4 or IPv6 addresses)
};

// What the network has on the host once a container joined it: its DNS responder, its
// bridge, isolation and masquerade rules, address leases. Removed, whichever of them
// are there.
void remove_host_state(const NetworkRecord& n);

// The names `bridge`, `host` and `none` are docker's modes, not networks.
bool is_predefined(const std::string& name);

// The subnets no new network may overlap: the default network's, every reserved one, the
// store's own networks' (a user's reservations go at logout, its records stay) and the
// host's routes.
class NetworkStore {
  public:
    explicit NetworkStore(const std::string& data_root);

    // Held while a change depends on what the store holds (create, rm, connect).
    sys::UniqueFd lock() const;

    // Validates `spec`, picks what it leaves out and records the network; `id` and
    // `created` come from the caller. Errors (one line each, nothing left behind):
    //   network with name NAME already exists
    //   invalid pool request: Pool overlaps with other one on this address space
    //   invalid network name "x", only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed
    //   no matching subnet for gateway 10.1.0.1
    //   invalid --dns 10.1.0: not an IP address
    NetworkRecord create(const NetworkSpec& spec, const std::string& id,
                         const std::string& created);
    // By name, full id or unique id prefix.
    std::optional<NetworkRecord> find(const std::string& name_or_id) const;
    std::vector<NetworkRecord> list() const;
    // Forgets the network and releases its subnet (the caller removed its devices,
    // rules and leases first).
    void remove(const NetworkRecord& n);
    // Drops the host's subnet reservations whose network is gone (left by a killed
    // create, or by a data root deleted with its networks), with what such a network
    // left on the host: its bridge, iptables rules and leases.
    static void drop_stale_reservations();

  private:
    std::string dir_;
};

}  // namespace husk::network
