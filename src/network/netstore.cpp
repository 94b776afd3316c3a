#include "network/netstore.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "network/dns/control.h"
#include "network/iptables.h"
#include "network/isolation.h"
#include "network/masquerade.h"
#include "network/nft.h"
#include "network/statepath.h"
#include "network/subnet.h"
#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/log.h"
#include "sys/user_dirs.h"

namespace husk::network {

namespace {

using nlohmann::json;

std::string reservations() {
    return state_path("/var/lib/cni/husk-subnets");
}

sys::UniqueFd lock_file(const std::string& path) {
    sys::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd) throw_sys("open", path);
    while (::flock(fd.get(), LOCK_EX) != 0)
        if (errno != EINTR) throw_sys("flock", path);
    return fd;
}

void check_name(const std::string& name) {
    bool ok = !name.empty() && std::isalnum(static_cast<unsigned char>(name[0])) &&
              name.find_first_not_of(
                  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789_.-") == std::string::npos;
    if (!ok)
        throw Error(fmt::format(
            "invalid network name \"{}\", only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name));
}

struct Reservation {
    std::string data_root, name, id;
    std::vector<Cidr> subnets;
};

// remove_host_state, its bridge and rules only with `devices`.
void remove_state(const NetworkRecord& n, bool devices) {
    dns::stop_responder(n.id);
    Network net = n.cni();
    if (devices) {
        nft_remove_network(net);
        // the rules a husk of the CNI path made: root's, never a user's (whose networks live
        // in its own namespace; host_lock is root's file)
        if (!sys::rootless() && has_iptables()) {
            remove_isolation(net);
            if (!net.internal && !net.subnet.empty()) remove_masquerade(net);
        }
        delete_bridge(net.bridge);
    }
    sys::remove_all(net.ipam_dir);
}

// A network whose record is gone (its data root deleted, or a `create` killed before it
// recorded the network): what it left on the host, found from its reservation. A user's
// bridge and rules were in its holder's namespace (engine/rootless_netns.h), not in this
// one (they go with the holder): its responder and leases go here.
void remove_stale_network(const Reservation& r) {
    NetworkRecord n;
    n.id = r.id;
    n.name = r.name;
    for (auto& c : r.subnets)
        if (c.family == 4) n.subnet = to_string(c);
    try {
        remove_state(n, !sys::rootless());
    } catch (const std::exception& e) {
        log::warn("network {} ({}): removing what it left on the host: {}", r.name, r.id, e.what());
    }
}

// The host's reservations whose network still exists. One whose network is gone is
// dropped here, with what that network left on the host.
std::vector<Reservation> live_reservations() {
    std::vector<Reservation> out;
    sys::mkdir_all(reservations(), 0700);
    for (auto& f : sys::list_dir(reservations())) {
        if (!f.ends_with(".json")) continue;
        std::string path = fmt::format("{}/{}", reservations(), f);
        try {
            json j = json::parse(sys::read_file(path));
            Reservation r{j.at("data_root"), j.at("name"), j.at("id"), {}};
            for (auto& s : j.at("subnets")) r.subnets.push_back(parse_cidr(s.get<std::string>()));
            auto rec =
                sys::read_file_if_exists(fmt::format("{}/networks/{}.json", r.data_root, r.name));
            if (rec && json::parse(*rec).value("Id", "") == r.id) {
                out.push_back(std::move(r));
                continue;
            }
            remove_stale_network(r);
        } catch (const std::exception&) {
        }
        ::unlink(path.c_str());
    }
    return out;
}

std::string random_ula_subnet() {
    unsigned char b[5];
    if (::getrandom(b, sizeof b, 0) != sizeof b) throw_sys("getrandom");
    return fmt::format("fd{:02x}:{:02x}{:02x}:{:02x}{:02x}::/64", b[0], b[1], b[2], b[3], b[4]);
}

// Fills in the gateway of `subnet` (its first address) or checks the one given.
std::string gateway_of(const Cidr& subnet, const std::string& given) {
    if (given.empty()) return nth_address(subnet, 1);
    Cidr gw = parse_ip(given);
    if (!contains(subnet, gw)) throw Error(fmt::format("no matching subnet for gateway {}", given));
    return address_text(gw);
}

}  // namespace

Network NetworkRecord::cni() const {
    Network n;
    n.name = name;
    n.bridge = bridge();
    n.subnet = subnet;
    n.gateway = gateway;
    n.subnet6 = subnet6;
    n.gateway6 = gateway6;
    n.internal = internal;
    // host-local keeps leases in <dir>/<name>: a directory of this network's own, as
    // two data roots may both have a network of one name
    n.ipam_dir = state_path(fmt::format("/var/lib/cni/networks/husk-{}", id.substr(0, 12)));
    return n;
}

std::string to_json(const NetworkRecord& n) {
    json j = {{"Id", n.id},
              {"Name", n.name},
              {"Created", n.created},
              {"Subnet", n.subnet},
              {"Gateway", n.gateway},
              {"Subnet6", n.subnet6},
              {"Gateway6", n.gateway6},
              {"Internal", n.internal},
              {"Labels", n.labels},
              {"DNS", n.dns}};
    return j.dump(2);
}

NetworkRecord network_from_json(const std::string& text) {
    json j = json::parse(text);
    NetworkRecord n;
    n.id = j.at("Id");
    n.name = j.at("Name");
    n.created = j.value("Created", "");
    n.subnet = j.at("Subnet");
    n.gateway = j.at("Gateway");
    n.subnet6 = j.value("Subnet6", "");
    n.gateway6 = j.value("Gateway6", "");
    n.internal = j.value("Internal", false);
    n.labels = j.value("Labels", std::map<std::string, std::string>{});
    n.dns = j.value("DNS", std::vector<std::string>{});
    return n;
}

bool is_predefined(const std::string& name) {
    return name == "bridge" || name == "host" || name == "none";
}

NetworkStore::NetworkStore(const std::string& data_root) : dir_(data_root + "/networks") {}

sys::UniqueFd NetworkStore::lock() const {
    sys::mkdir_all(dir_, 0700);
    return lock_file(dir_ + "/.lock");
}

NetworkRecord NetworkStore::create(const NetworkSpec& spec, const std::string& id,
                                   const std::string& created) {
    check_name(spec.name);
    if (is_predefined(spec.name))
        throw Error(fmt::format("operation is not permitted on predefined {} network", spec.name));
    NetworkRecord n;
    n.id = id;
    n.name = spec.name;
    n.created = created;
    n.internal = spec.internal;
    n.labels = spec.labels;
    for (auto& d : spec.dns) {
        try {
            n.dns.push_back(address_text(parse_ip(d)));
        } catch (const Error&) {
            throw Error(fmt::format("invalid --dns {}: not an IP address", d));
        }
    }
    std::optional<Cidr> want, want6;
    if (!spec.subnet.empty()) {
        Cidr c = parse_cidr(spec.subnet);
        (c.family == 4 ? want : want6) = c;
    }
    if (!spec.subnet6.empty()) {
        Cidr c = parse_cidr(spec.subnet6);
        (c.family == 4 ? want : want6) = c;
    }
    if (want6 && !spec.ipv6)
        throw Error("an IPv6 subnet needs --ipv6 (the network is IPv4 only without it)");
    if (!spec.gateway.empty() && !want)
        throw Error(
            "--gateway needs --subnet (a gateway of a subnet chosen by husk is its first address)");

    auto held = lock();
    if (find(spec.name)) throw Error(fmt::format("network with name {} already exists", spec.name));
    sys::mkdir_all(reservations(), 0700);
    auto host = lock_file(fmt::format("{}/.lock", reservations()));
    // the reservations first: a stale one's bridge goes, and its route with it
    std::vector<Cidr> taken;
    for (auto& r : live_reservations())
        taken.insert(taken.end(), r.subnets.begin(), r.subnets.end());
    // and this store's own networks: a user's reservations are under its runtime directory
    // (network/statepath.h), gone at logout while its records stay
    for (auto& other : list()) {
        taken.push_back(parse_cidr(other.subnet));
        if (!other.subnet6.empty()) taken.push_back(parse_cidr(other.subnet6));
    }
    auto routes = host_routes();
    taken.insert(taken.end(), routes.begin(), routes.end());
    taken.push_back(parse_cidr(Network{}.subnet));
    auto overlapping = [&](const Cidr& c) {
        return std::any_of(taken.begin(), taken.end(), [&](auto& t) { return overlaps(c, t); });
    };
    if ((want && overlapping(*want)) || (want6 && overlapping(*want6)))
        throw Error("invalid pool request: Pool overlaps with other one on this address space");
    Cidr v4 = want ? *want : pick_subnet(taken);
    n.subnet = to_string(v4);
    n.gateway = gateway_of(v4, spec.gateway);
    std::vector<std::string> subnets = {n.subnet};
    if (spec.ipv6) {
        Cidr v6 = want6 ? *want6 : parse_cidr(random_ula_subnet());
        n.subnet6 = to_string(v6);
        n.gateway6 = gateway_of(v6, spec.gateway6);
        subnets.push_back(n.subnet6);
    }
    // the reservation first: a create killed now leaves one without a network, which
    // the next reader drops
    json res = {{"data_root", dir_.substr(0, dir_.size() - std::string("/networks").size())},
                {"name", n.name},
                {"id", n.id},
                {"subnets", subnets}};
    sys::write_file_atomic(fmt::format("{}/{}.json", reservations(), n.id), res.dump(), 0600);
    sys::write_file_atomic(fmt::format("{}/{}.json", dir_, n.name), to_json(n), 0600);
    return n;
}

void NetworkStore::drop_stale_reservations() {
    sys::mkdir_all(reservations(), 0700);
    auto host = lock_file(fmt::format("{}/.lock", reservations()));
    live_reservations();
}

std::optional<NetworkRecord> NetworkStore::find(const std::string& name_or_id) const {
    if (name_or_id.empty()) return std::nullopt;
    auto all = list();
    for (auto& n : all)
        if (n.name == name_or_id || n.id == name_or_id) return n;
    std::optional<NetworkRecord> found;
    for (auto& n : all)
        if (n.id.starts_with(name_or_id)) {
            if (found) return std::nullopt;  // ambiguous
            found = n;
        }
    return found;
}

std::vector<NetworkRecord> NetworkStore::list() const {
    std::vector<NetworkRecord> out;
    if (!sys::exists_follow(dir_)) return out;
    for (auto& f : sys::list_dir(dir_)) {
        if (!f.ends_with(".json") || f.starts_with(".")) continue;
        auto text = sys::read_file_if_exists(fmt::format("{}/{}", dir_, f));
        if (text) out.push_back(network_from_json(*text));
    }
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
    return out;
}

void remove_host_state(const NetworkRecord& n) {
    remove_state(n, true);
}

void NetworkStore::remove(const NetworkRecord& n) {
    std::string path = fmt::format("{}/{}.json", dir_, n.name);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw_sys("unlink", path);
    std::string res = fmt::format("{}/{}.json", reservations(), n.id);
    ::unlink(res.c_str());
}

}  // namespace husk::network
