#include "engine/network.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/monitor.h"
#include "engine/record.h"
#include "engine/rootless_netns.h"
#include "engine/run.h"
#include "network/conflist.h"
#include "network/dns/control.h"
#include "network/endpoint.h"
#include "network/hostports.h"
#include "network/isolation.h"
#include "network/netstore.h"
#include "network/nft.h"
#include "network/pasta.h"
#include "network/portproxy.h"
#include "network/slirp.h"
#include "network/subnet.h"
#include "network/usernet.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/log.h"
#include "sys/loopback.h"
#include "sys/user_dirs.h"

namespace husk::engine {

void loopback_up(pid_t pid) {
    std::string path = fmt::format("/proc/{}/ns/net", pid);
    sys::UniqueFd ns(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns) throw_sys("open", path);
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) throw_sys("pipe2");
    sys::UniqueFd rd(pipefd[0]), wr(pipefd[1]);
    pid_t child = ::fork();
    if (child < 0) throw_sys("fork");
    if (child == 0) {
        // Only async-signal-safe calls: report errno on the pipe and exit.
        int err = 0;
        if (::setns(ns.get(), CLONE_NEWNET) != 0)
            err = errno;
        else
            err = sys::bring_up_loopback();
        if (err != 0) (void)!::write(wr.get(), &err, sizeof err);
        ::_exit(err != 0 ? 1 : 0);
    }
    wr.reset();
    int err = 0;
    ssize_t n = ::read(rd.get(), &err, sizeof err);
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (n == static_cast<ssize_t>(sizeof err) && err != 0)
        throw SysError("bring up loopback in", path, err);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw Error(fmt::format("bring up loopback in {}: helper failed", path));
}

std::string hosts_file(const std::string& hostname, bool host_network) {
    if (host_network && sys::exists_follow("/etc/hosts")) return sys::read_file("/etc/hosts");
    (void)hostname;
    return "127.0.0.1\tlocalhost\n"
           "::1\tlocalhost ip6-localhost ip6-loopback\n"
           "fe00::0\tip6-localnet\n"
           "ff00::0\tip6-mcastprefix\n"
           "ff02::1\tip6-allnodes\n"
           "ff02::2\tip6-allrouters\n";
}

std::string with_dns(const std::string& conf, const std::vector<std::string>& servers,
                     const std::vector<std::string>& search,
                     const std::vector<std::string>& options) {
    std::stringstream in(conf);
    std::string line, out;
    while (std::getline(in, line)) {
        std::stringstream ls(line);
        std::string key;
        ls >> key;
        if ((key == "nameserver" && !servers.empty()) ||
            ((key == "search" || key == "domain") && !search.empty()) ||
            (key == "options" && !options.empty()))
            continue;
        out += line + "\n";
    }
    for (auto& s : servers) out += "nameserver " + s + "\n";
    if (!search.empty()) out += fmt::format("search {}\n", fmt::join(search, " "));
    if (!options.empty()) out += fmt::format("options {}\n", fmt::join(options, " "));
    return out;
}

std::string host_gateway(NetworkMode m) {
    // a user's networks reach the host through slirp4netns (engine/rootless_netns.h)
    if (m == NetworkMode::slirp4netns || (m == NetworkMode::user && sys::rootless()))
        return network::kSlirpGateway;
    if (m != NetworkMode::bridge || !sys::rootless()) return network::Network{}.gateway;
    // /proc/net/route: the default route's gateway, little-endian hex
    std::istringstream routes(sys::read_file_if_exists("/proc/net/route").value_or(""));
    std::string line;
    std::getline(routes, line);  // the header
    while (std::getline(routes, line)) {
        std::istringstream fields(line);
        std::string iface, dest, gw;
        fields >> iface >> dest >> gw;
        if (dest != "00000000" || gw.empty() || gw == "00000000") continue;
        uint32_t addr = 0;
        auto [end, ec] = std::from_chars(gw.data(), gw.data() + gw.size(), addr, 16);
        if (ec != std::errc()) continue;
        return fmt::format("{}.{}.{}.{}", addr & 0xff, (addr >> 8) & 0xff, (addr >> 16) & 0xff,
                           addr >> 24);
    }
    throw Error(
        "--add-host host-gateway: the host has no default IPv4 route, the address pasta gives "
        "the container for the host (use --network slirp4netns: 10.0.2.2)");
}

std::string add_host_line(const std::string& spec, const std::string& gateway) {
    size_t sep = spec.find_first_of(":=");
    std::string host = spec.substr(0, sep);
    std::string ip = sep == std::string::npos ? "" : spec.substr(sep + 1);
    if (ip == "host-gateway") ip = gateway;
    unsigned char buf[16];
    if (host.empty() ||
        (::inet_pton(AF_INET, ip.c_str(), buf) != 1 && ::inet_pton(AF_INET6, ip.c_str(), buf) != 1))
        throw Error(
            fmt::format("invalid argument \"{}\" for \"--add-host\" flag: invalid IP "
                        "address in add-host: \"{}\"",
                        spec, ip));
    return fmt::format("{}\t{}\n", ip, host);
}

std::string add_host_lines(const std::vector<std::string>& specs, NetworkMode m) {
    std::string lines, gateway;
    for (auto& spec : specs) {
        if (gateway.empty() && spec.ends_with("host-gateway")) gateway = host_gateway(m);
        lines += add_host_line(spec, gateway);
    }
    return lines;
}

namespace {

// The nameserver of a resolv.conf line, or "".
std::string nameserver_of(const std::string& line) {
    std::stringstream ls(line);
    std::string key, addr;
    ls >> key >> addr;
    return key == "nameserver" ? addr : std::string();
}

// A "nameserver" line of resolv.conf naming a loopback address.
bool loopback_nameserver(const std::string& line) {
    std::string addr = nameserver_of(line);
    return addr.starts_with("127.") || addr == "::1";
}

// The host's resolv.conf as a container with a network namespace of its own starts from:
// where it names only systemd-resolved's stub (127.0.0.53, the host's own loopback), the
// file of resolved's real upstream servers, as docker and podman take it.
std::string host_resolv_conf(bool host_network) {
    auto read = [](const char* path) -> std::optional<std::string> {
        try {
            return sys::read_file_if_exists(path);
        } catch (const std::exception&) {  // as if missing: a container without nameservers
            return std::nullopt;
        }
    };
    std::string host = read("/etc/resolv.conf").value_or("");
    if (host_network) return host;
    std::stringstream in(host);
    bool stub_only = false;
    for (std::string line; std::getline(in, line);) {
        std::string addr = nameserver_of(line);
        if (addr.empty()) continue;
        if (addr != "127.0.0.53") return host;
        stub_only = true;
    }
    if (!stub_only) return host;
    return read("/run/systemd/resolve/resolv.conf").value_or(host);
}

}  // namespace

std::string resolv_conf(bool host_network) {
    std::string host = host_resolv_conf(host_network);
    if (host_network) return host;
    std::stringstream in(host);
    std::string line, out;
    while (std::getline(in, line))
        if (!loopback_nameserver(line)) out += line + "\n";
    return out;
}

bool host_resolver_on_loopback() {
    std::stringstream in(host_resolv_conf(false));
    for (std::string line; std::getline(in, line);)
        if (loopback_nameserver(line)) return true;
    return false;
}

namespace {

std::string endpoint_file(const EngineContext& ctx, const std::string& id) {
    return Containers(ctx.data_root).dir(id) + "/network.json";
}

// A rootless container's pasta (network/pasta.h).
std::string pasta_dir(const EngineContext& ctx, const std::string& id) {
    return Containers(ctx.data_root).dir(id) + "/pasta";
}

// A --network slirp4netns container's slirp4netns (network/slirp.h).
std::string slirp_dir(const EngineContext& ctx, const std::string& id) {
    return Containers(ctx.data_root).dir(id) + "/slirp4netns";
}

// A user's container on its networks (engine/rootless_netns.h): its published ports.
std::string user_netns_dir(const EngineContext& ctx, const std::string& id) {
    return Containers(ctx.data_root).dir(id) + "/user-netns";
}

std::string endpoints_dir(const EngineContext& ctx, const std::string& id) {
    return Containers(ctx.data_root).dir(id) + "/endpoints";
}

std::string user_endpoint_file(const EngineContext& ctx, const std::string& id,
                               const std::string& network) {
    return fmt::format("{}/{}.json", endpoints_dir(ctx, id), network);
}

std::string pins_dir(const EngineContext& ctx) {
    return ctx.state_root() + "/.netns";
}

sys::UniqueFd lock_path(const std::string& path) {
    sys::UniqueFd lock(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!lock) throw_sys("open", path);
    while (::flock(lock.get(), LOCK_EX) != 0)
        if (errno != EINTR) throw_sys("flock", path);
    return lock;
}

// Held while host ports are chosen and reserved: two runs publishing one port at once
// serialize here, and the second finds it taken in the first one's endpoint file.
sys::UniqueFd ports_lock(const EngineContext& ctx) {
    sys::mkdir_all(pins_dir(ctx), 0700);
    return lock_path(pins_dir(ctx) + "/.lock");
}

// docker: "Bind for 0.0.0.0:8080 failed: port is already allocated". A user's containers on
// its networks (`in_holder`) share one map in the holder's namespace, keyed by protocol and
// port (engine/rootless_netns.h): between them a port is taken whatever its host address.
void check_ports_free(const EngineContext& ctx, const std::string& id,
                      const std::vector<network::PortMapping>& ports, bool in_holder) {
    auto collide = [](network::PortMapping p, network::PortMapping q, bool any_address) {
        if (!network::collides(p, q) && any_address) {
            p.host_ip.clear();
            q.host_ip.clear();
            if (network::collides(p, q))
                throw Error(fmt::format(
                    "Bind for {} failed: port {} is already allocated on your networks (on "
                    "{}: they publish a port on one host address only)",
                    network::host_address(p), p.host_port, network::host_address(q)));
        }
        if (network::collides(p, q))
            throw Error(fmt::format("Bind for {} failed: port is already allocated",
                                    network::host_address(p)));
    };
    for (size_t i = 0; i < ports.size(); ++i)
        for (size_t k = 0; k < i; ++k) collide(ports[i], ports[k], in_holder);
    for (auto& other : Containers(ctx.data_root).list()) {
        if (other.id == id) continue;
        auto ep = container_endpoint(ctx, other.id);
        if (!ep) continue;
        bool both = in_holder && sys::exists_follow(user_netns_dir(ctx, other.id));
        for (auto& p : ports)
            for (auto& q : ep->ports) collide(p, q, both);
    }
}

std::optional<network::Endpoint> read_endpoint(const std::string& file) {
    auto text = sys::read_file_if_exists(file);
    if (!text) return std::nullopt;
    return network::endpoint_from_json(*text);
}

std::string hostname_of(const std::string& dir) {
    std::string hostname = sys::read_file(dir + "/hostname");
    while (!hostname.empty() && hostname.back() == '\n') hostname.pop_back();
    return hostname;
}

// hosts.base: what write_bundle made (with --add-host lines), without an address
std::string hosts_base(const std::string& dir, const std::string& hostname) {
    return sys::exists_follow(dir + "/hosts.base") ? sys::read_file(dir + "/hosts.base")
                                                   : hosts_file(hostname, false);
}

// The /etc/hosts of container `id`: what write_bundle made, then its own addresses (on
// the default network and on each user-defined one) under its hostname. The other
// containers' names are the networks' DNS responders' (refresh_names). Written in place:
// the file is bind-mounted into the container.
void write_own_hosts(const EngineContext& ctx, const std::string& id) {
    std::string dir = Containers(ctx.data_root).dir(id);
    std::string hostname = hostname_of(dir);
    std::string text = hosts_base(dir, hostname);
    if (auto ep = read_endpoint(endpoint_file(ctx, id)); ep && !ep->address.ip.empty())
        text += fmt::format("{}\t{}\n", ep->address.ip, hostname);
    for (auto& [net, ep] : user_endpoints(ctx, id))
        if (!ep.address.ip.empty()) text += fmt::format("{}\t{}\n", ep.address.ip, hostname);
    sys::write_file(dir + "/hosts", text);
}

// The names each of `networks` answers, from the records: every container with an
// address on it, by name, short id and its aliases there; and to each of them (a
// container asks its first network's responder) the names of the other networks it is
// on. So the networks refreshed are `networks` and every other network of their
// members. A network with containers gets its DNS responder (started if none runs), one
// without loses it. `leaving`: a container on its way out, not a member whatever its
// endpoint files say (a failed DEL keeps one for `rm` to try again). Called under the
// network store's lock.
void refresh_names(const EngineContext& ctx, const std::set<std::string>& networks,
                   const std::string& leaving = {}) {
    struct Member {
        std::string ip, ip6;
        std::vector<std::string> names;
        std::vector<std::string> dns;  // its --dns
    };
    // network -> its members; container id -> its networks
    std::map<std::string, std::map<std::string, Member>> members;
    std::map<std::string, std::set<std::string>> joined;
    for (auto& rec : Containers(ctx.data_root).list()) {
        if (rec.id == leaving) continue;
        for (auto& [net, ep] : user_endpoints(ctx, rec.id)) {
            if (ep.address.ip.empty()) continue;
            Member m{ep.address.ip, ep.ip6, {rec.name, rec.id.substr(0, 12)}, rec.dns};
            for (auto& a : rec.networks)
                if (a.network == net)
                    m.names.insert(m.names.end(), a.aliases.begin(), a.aliases.end());
            members[net][rec.id] = std::move(m);
            joined[rec.id].insert(net);
        }
    }
    std::set<std::string> refreshed = networks;
    for (auto& net : networks)
        for (auto& [id, m] : members[net]) refreshed.insert(joined[id].begin(), joined[id].end());
    for (auto& name : refreshed) {
        auto n = network::NetworkStore(ctx.data_root).find(name);
        if (!n) continue;
        auto& here = members[name];
        if (here.empty()) {
            network::dns::stop_responder(n->id);
            continue;
        }
        // each address of a member (IPv4, and IPv6 on a network with it) under its names;
        // a member's servers (--dns) are its upstreams, asked from either address
        std::vector<network::dns::NameEntry> entries;
        network::dns::Upstreams upstreams{{"", n->dns}};
        auto add = [&](const Member& m, const std::string& client) {
            for (const std::string* ip : {&m.ip, &m.ip6})
                if (!ip->empty()) entries.push_back({*ip, m.names, client});
        };
        for (auto& [id, m] : here) {
            add(m, {});
            for (const std::string* ip : {&m.ip, &m.ip6})
                if (!ip->empty() && !m.dns.empty()) upstreams[*ip] = m.dns;
        }
        for (auto& [id, m] : here)
            for (auto& other : joined[id]) {
                if (other == name) continue;
                for (auto& [oid, om] : members[other]) {
                    add(om, m.ip);
                    if (!m.ip6.empty()) add(om, m.ip6);
                }
            }
        network::dns::write_names(n->id, entries, upstreams);
        // a user's responder is in its networks' namespace: the host's loopback resolver
        // (127.0.0.53) through slirp4netns' forwarder
        network::dns::ensure_responder(n->id, n->name, n->gateway, n->subnet, !n->internal,
                                       find_helper("husk-dns", "HUSK_DNS"),
                                       sys::rootless() ? network::kSlirpDns : "");
    }
}

// `networks` and the user-defined networks container `id` is connected to.
std::set<std::string> with_networks_of(const EngineContext& ctx, const std::string& id,
                                       std::set<std::string> networks) {
    for (auto& [net, ep] : user_endpoints(ctx, id)) networks.insert(net);
    return networks;
}

// refresh_names on a failure path: the names of `networks` without what failed to join
// them. Warns instead of throwing (the caller throws its own error).
void forget_names(const EngineContext& ctx, const std::set<std::string>& networks) {
    try {
        refresh_names(ctx, networks);
    } catch (const std::exception& e) {
        log::warn("networks' names: {}", e.what());
    }
}

network::NetworkRecord find_network(const EngineContext& ctx, const std::string& name) {
    auto n = network::NetworkStore(ctx.data_root).find(name);
    if (!n) throw Error(fmt::format("network {} not found", name));
    return *n;
}

// Does the network a container's ports go to give it an IPv6 address (the default one
// does not; a users' CNI one has no husk-proxy)?
bool ports_have_ip6(const EngineContext& ctx, const ContainerRecord& rec) {
    if (rec.network != NetworkMode::user || rec.networks.empty()) return false;
    const std::string& first = rec.networks.front().network;
    return network::cni_network_name(first).empty() && !find_network(ctx, first).subnet6.empty();
}

// husk-proxy when one of `ports` needs it (network/portproxy.h): the endpoint starts it.
std::string proxy_helper(const std::vector<network::PortMapping>& ports, bool ipv6) {
    for (auto& p : ports)
        if (network::proxied(p, ipv6)) return find_helper("husk-proxy", "HUSK_PROXY");
    return {};
}

// The lowest ethN no endpoint of the container uses.
std::string free_ifname(const EngineContext& ctx, const std::string& id) {
    std::set<std::string> used;
    if (auto ep = read_endpoint(endpoint_file(ctx, id))) used.insert(ep->ifname);
    for (auto& [net, ep] : user_endpoints(ctx, id)) used.insert(ep.ifname);
    for (int i = 0;; ++i)
        if (!used.count(fmt::format("eth{}", i))) return fmt::format("eth{}", i);
}

// Connects container `id` to one user-defined network (or a users' CNI conflist,
// cni:NAME): the endpoint file written first as a reservation (so a process killed
// during the connect leaves what `husk rm` undoes), then the connect. Nothing left on failure.
// Called under the store's lock.
void connect_one(const EngineContext& ctx, const std::string& id, pid_t pid,
                 const NetworkAttachment& att, const std::vector<network::PortMapping>& ports) {
    std::string file = user_endpoint_file(ctx, id, att.network);
    network::Endpoint reserved;
    if (auto cni = network::cni_network_name(att.network); !cni.empty()) {
        // a users' conflist: through the CNI plugins
        reserved = network::reserve_cni(network::find_conflist(cni), id,
                                        fmt::format("{}/{}.cni-{}", pins_dir(ctx), id, cni), ports,
                                        free_ifname(ctx, id));
        if (!att.ip.empty()) reserved.ips.push_back(att.ip);
    } else {
        network::NetworkRecord n = find_network(ctx, att.network);
        network::Network net = n.cni();
        std::vector<std::string> ips;
        if (!att.ip.empty())
            ips.push_back(
                fmt::format("{}/{}", att.ip, net.subnet.substr(net.subnet.find('/') + 1)));
        reserved = network::reserve(net, id,
                                    fmt::format("{}/{}.{}", pins_dir(ctx), id, n.id.substr(0, 12)),
                                    ports, free_ifname(ctx, id), ips);
        reserved.proxy_helper = proxy_helper(ports, !net.subnet6.empty());
    }
    sys::mkdir_all(endpoints_dir(ctx, id), 0700);
    sys::write_file_atomic(file, network::to_json(reserved), 0600);
    try {
        auto ep = network::connect(reserved, pid);
        try {
            sys::write_file_atomic(file, network::to_json(ep), 0600);
        } catch (...) {
            network::disconnect(ep);
            throw;
        }
    } catch (...) {
        ::unlink(file.c_str());
        throw;
    }
}

void disconnect_one(const std::string& id, const std::string& file) {
    auto ep = read_endpoint(file);
    if (!ep) return;
    try {
        network::disconnect(*ep);
    } catch (const std::exception& e) {
        // the endpoint file stays: `husk rm` tries again
        log::warn("container {}: {}", id, e.what());
        return;
    }
    ::unlink(file.c_str());
}

void connect_default(const EngineContext& ctx, const ContainerRecord& rec, pid_t pid,
                     std::vector<network::PortMapping> ports) {
    std::string file = endpoint_file(ctx, rec.id);
    std::optional<network::Endpoint> ep;
    try {
        auto reserved = network::reserve(network::Network{}, rec.id, pins_dir(ctx) + "/" + rec.id,
                                         std::move(ports));
        reserved.proxy_helper = proxy_helper(reserved.ports, false);
        ep = network::connect(std::move(reserved), pid);
        sys::write_file_atomic(file, network::to_json(*ep), 0600);
        write_own_hosts(ctx, rec.id);
    } catch (...) {
        if (ep) {
            try {
                network::disconnect(*ep);
            } catch (const std::exception& e) {
                log::warn("container {}: {}", rec.id, e.what());
            }
        }
        ::unlink(file.c_str());
        throw;
    }
}

// Connects container `rec` (init `pid`) to each of its user-defined networks, `ports`
// published on the first unless `bridge` (the default network has them).
void connect_networks(const EngineContext& ctx, const ContainerRecord& rec, pid_t pid,
                      const std::vector<network::PortMapping>& ports, bool bridge) {
    auto store = network::NetworkStore(ctx.data_root).lock();
    std::set<std::string> names;
    try {
        for (auto& att : rec.networks) {
            connect_one(ctx, rec.id, pid, att,
                        !bridge && names.empty() ? ports : std::vector<network::PortMapping>{});
            names.insert(att.network);
        }
        write_own_hosts(ctx, rec.id);
        refresh_names(ctx, names);
    } catch (...) {
        for (auto& n : names) disconnect_one(rec.id, user_endpoint_file(ctx, rec.id, n));
        if (bridge) disconnect_one(rec.id, endpoint_file(ctx, rec.id));
        forget_names(ctx, names);
        throw;
    }
}

// Undoes connect_networks: its names go even when a DEL failed (its endpoint file kept
// for a retry): the last container leaving a network stops the responder whatever went
// wrong.
void disconnect_networks(const EngineContext& ctx, const std::string& id) {
    auto eps = user_endpoints(ctx, id);
    if (eps.empty()) return;
    auto store = network::NetworkStore(ctx.data_root).lock();
    std::set<std::string> names;
    for (auto& [net, ep] : eps) {
        disconnect_one(id, user_endpoint_file(ctx, id, net));
        names.insert(net);
    }
    refresh_names(ctx, names, id);
}

// The user's network namespace's holder, for a container connected or connecting there.
NetnsHolder running_holder(const EngineContext& ctx) {
    auto holder = user_netns_holder(ctx);
    if (!holder)
        throw Error(
            "the holder of your networks' namespace is gone: start the container again (husk "
            "starts a new one)");
    return std::move(*holder);
}

// A user's container on its networks (engine/rootless_netns.h): the ports as asked
// recorded in DIR/endpoint.json (what port, ps and the next container's check read) under
// the ports lock `held`; connected by the root code in the holder's namespaces, the ports
// there on every address of the holder (slirp4netns brings them in); published on the host
// through slirp4netns.
void connect_in_user_netns(const EngineContext& ctx, const ContainerRecord& rec, pid_t pid,
                           const std::vector<network::PortMapping>& ports, sys::UniqueFd held) {
    std::string dir = user_netns_dir(ctx, rec.id);
    sys::mkdir_all(dir, 0700);
    network::Endpoint ep;
    ep.container_id = rec.id;
    ep.ports = ports;
    sys::write_file_atomic(dir + "/endpoint.json", network::to_json(ep), 0600);
    held.reset();
    NetnsHolder holder = running_holder(ctx);
    std::vector<network::PortMapping> inside = ports;
    for (auto& p : inside) p.host_ip.clear();
    // its loopback the init brought up itself (runtime Plan::loopback_up)
    in_user_netns(holder, [&] { connect_networks(ctx, rec, pid, inside, false); });
    try {
        publish_user_netns(ctx, ports);
    } catch (...) {
        in_user_netns(holder, [&] { disconnect_networks(ctx, rec.id); });
        throw;
    }
}

// Undoes connect_in_user_netns; the holder goes with the last container it served.
void disconnect_in_user_netns(const EngineContext& ctx, const std::string& id) {
    std::string dir = user_netns_dir(ctx, id);
    if (!sys::exists_follow(dir)) return;
    if (auto ep = read_endpoint(dir + "/endpoint.json")) unpublish_user_netns(ctx, ep->ports);
    auto holder = user_netns_holder(ctx);
    try {
        if (holder) in_user_netns(*holder, [&] { disconnect_networks(ctx, id); });
    } catch (const std::exception& e) {
        log::warn("container {}: disconnecting from the network: {}", id, e.what());
    }
    // without a holder its namespace, and all that was in it, is gone
    sys::remove_all(endpoints_dir(ctx, id));
    sys::remove_all(dir);
    stop_user_netns(ctx, [&] {
        for (auto& other : Containers(ctx.data_root).list())
            if (sys::exists_follow(user_netns_dir(ctx, other.id))) return true;
        return false;
    });
}

}  // namespace

bool uses_user_netns(const ContainerRecord& rec) {
    return sys::rootless() && rec.network == NetworkMode::user && !rec.networks.empty();
}

void prepare_user_netns(const EngineContext& ctx, const ContainerRecord& rec) {
    sys::mkdir_all(user_netns_dir(ctx, rec.id), 0700);  // the holder is needed from now on
    ensure_user_netns(ctx, rec.uid_maps, rec.gid_maps);
}

void remove_network_state(const EngineContext& ctx, const network::NetworkRecord& n) {
    if (!sys::rootless()) return network::remove_host_state(n);
    // a user's: in its namespace; without a holder that namespace is gone with it
    if (auto holder = user_netns_holder(ctx))
        in_user_netns(*holder, [&] { network::remove_host_state(n); });
}

std::string slirp_features_file(const EngineContext& ctx) {
    return ctx.state_root() + "/slirp4netns.features";
}

bool connects(NetworkMode m) {
    return m == NetworkMode::bridge || m == NetworkMode::user || m == NetworkMode::slirp4netns;
}

sys::UniqueFd connect_container(const EngineContext& ctx, const ContainerRecord& rec, pid_t pid) {
    std::vector<network::PortMapping> ports = rec.publish;
    bool bridge = rec.network == NetworkMode::bridge;
    bool slirp = rec.network == NetworkMode::slirp4netns;
    bool pasta = bridge && sys::rootless();
    auto held = ports_lock(ctx);
    // checked at create too; again here, where the ports are bound (the sysctl may change)
    if ((pasta || slirp) && sys::rootless()) network::check_unprivileged_ports(ports);
    network::resolve_host_ports(ports, ports_have_ip6(ctx, rec));
    check_ports_free(ctx, rec.id, ports, uses_user_netns(rec));
    if (pasta || slirp) {
        // a user-mode network (a user's default: pasta's), its ports bound by the helper
        // as the user. The ports as chosen are recorded first (port, ps, inspect and the
        // next container's check read them, as the bridge's reservation below), then the
        // helper starts without the ports lock; `rm` removes the directory whatever a kill
        // left in it.
        std::string dir = slirp ? slirp_dir(ctx, rec.id) : pasta_dir(ctx, rec.id);
        sys::mkdir_all(dir, 0700);
        network::Endpoint ep;
        ep.container_id = rec.id;
        ep.ports = ports;
        if (slirp) {
            ep.ifname = "tap0";
            ep.address.ip = network::kSlirpAddress;
            ep.address.prefix_len = network::kSlirpPrefix;
            ep.address.gateway = network::kSlirpGateway;
        }
        sys::write_file_atomic(dir + "/endpoint.json", network::to_json(ep), 0600);
        held.reset();
        try {
            if (slirp)
                return network::start_slirp(dir, pid, ports,
                                            network::parse_slirp_options(rec.network_options),
                                            slirp_features_file(ctx));
            network::start_pasta(dir, pid, ports);
        } catch (...) {
            sys::remove_all(dir);
            throw;
        }
        return {};
    }
    if (bridge) {
        // the reservation of the ports (and what a DEL needs should this process die
        // before the ADD is done)
        network::Endpoint reserved =
            network::reserve(network::Network{}, rec.id, pins_dir(ctx) + "/" + rec.id, ports);
        sys::write_file_atomic(endpoint_file(ctx, rec.id), network::to_json(reserved), 0600);
        if (rec.networks.empty()) held.reset();
        connect_default(ctx, rec, pid, ports);
    }
    if (rec.networks.empty()) return {};
    if (sys::rootless()) {
        connect_in_user_netns(ctx, rec, pid, ports, std::move(held));
        return {};
    }
    connect_networks(ctx, rec, pid, ports, bridge);
    return {};
}

void disconnect_container(const EngineContext& ctx, const std::string& id) {
    try {
        network::stop_helper(pasta_dir(ctx, id));
        network::stop_helper(slirp_dir(ctx, id));
        disconnect_one(id, endpoint_file(ctx, id));
        if (sys::rootless())
            disconnect_in_user_netns(ctx, id);
        else
            disconnect_networks(ctx, id);
    } catch (const std::exception& e) {
        log::warn("container {}: disconnecting from the network: {}", id, e.what());
    }
}

std::optional<network::Endpoint> container_endpoint(const EngineContext& ctx,
                                                    const std::string& id) {
    if (auto ep = read_endpoint(endpoint_file(ctx, id))) return ep;
    if (auto ep = read_endpoint(pasta_dir(ctx, id) + "/endpoint.json")) return ep;
    if (auto ep = read_endpoint(slirp_dir(ctx, id) + "/endpoint.json")) return ep;
    if (auto ep = read_endpoint(user_netns_dir(ctx, id) + "/endpoint.json");
        ep && !ep->ports.empty())
        return ep;
    auto eps = user_endpoints(ctx, id);
    for (auto& [net, ep] : eps)
        if (!ep.ports.empty()) return ep;
    if (!eps.empty()) return eps.front().second;
    return std::nullopt;
}

std::vector<std::pair<std::string, network::Endpoint>> user_endpoints(const EngineContext& ctx,
                                                                      const std::string& id) {
    std::vector<std::pair<std::string, network::Endpoint>> out;
    std::string dir = endpoints_dir(ctx, id);
    if (!sys::exists_follow(dir)) return out;
    for (auto& f : sys::list_dir(dir)) {
        if (!f.ends_with(".json")) continue;
        auto ep = read_endpoint(fmt::format("{}/{}", dir, f));
        if (ep) out.emplace_back(f.substr(0, f.size() - 5), std::move(*ep));
    }
    std::sort(out.begin(), out.end(),
              [](auto& a, auto& b) { return a.second.ifname < b.second.ifname; });
    return out;
}

void check_attachments(const EngineContext& ctx, const std::vector<NetworkAttachment>& atts) {
    for (auto& att : atts) {
        if (auto cni = network::cni_network_name(att.network); !cni.empty()) {
            network::find_conflist(cni);  // there is one
            continue;
        }
        auto n = find_network(ctx, att.network);
        if (att.ip.empty()) continue;
        auto ip = network::parse_ip(att.ip);
        if (!network::contains(network::parse_cidr(n.subnet), ip))
            throw Error(fmt::format("requested IP {} is not in the subnet {} of network {}", att.ip,
                                    n.subnet, n.name));
    }
}

void check_published(const EngineContext& ctx, NetworkMode mode,
                     const std::vector<NetworkAttachment>& atts,
                     const std::vector<network::PortMapping>& ports) {
    if (ports.empty()) return;
    if (mode == NetworkMode::bridge && sys::rootless()) {
        // pasta's network: pasta binds each host address itself, IPv6 ones too
        network::check_unprivileged_ports(ports);
    } else if (mode == NetworkMode::slirp4netns || (mode == NetworkMode::user && sys::rootless())) {
        // slirp4netns binds them as the user (a user's networks' too: engine/rootless_netns.h);
        // IPv4 only (husk does not enable its IPv6)
        if (sys::rootless()) network::check_unprivileged_ports(ports);
        for (auto& p : ports)
            if (network::is_ipv6(p))
                throw Error(fmt::format(
                    "--network {}: cannot publish {}: husk publishes IPv4 host addresses only "
                    "through slirp4netns",
                    mode == NetworkMode::user && !atts.empty() ? atts.front().network
                                                               : "slirp4netns",
                    network::host_address(p)));
    } else if (mode == NetworkMode::bridge) {
        network::check_ipv6_ports(network::Network{}, ports);
    } else if (mode == NetworkMode::user && !atts.empty() &&
               network::cni_network_name(atts.front().network).empty()) {
        network::check_ipv6_ports(find_network(ctx, atts.front().network).cni(), ports);
    }
}

namespace {

void connect_running_here(const EngineContext& ctx, const ContainerRecord& rec, pid_t pid,
                          const NetworkAttachment& att) {
    auto store = network::NetworkStore(ctx.data_root).lock();
    connect_one(ctx, rec.id, pid, att, {});
    try {
        write_own_hosts(ctx, rec.id);
        refresh_names(ctx, {att.network});
    } catch (...) {
        disconnect_one(rec.id, user_endpoint_file(ctx, rec.id, att.network));
        // its other networks' responders may have learnt the names of this one
        forget_names(ctx, with_networks_of(ctx, rec.id, {att.network}));
        throw;
    }
}

void disconnect_running_here(const EngineContext& ctx, const std::string& id,
                             const std::string& network) {
    auto store = network::NetworkStore(ctx.data_root).lock();
    std::string file = user_endpoint_file(ctx, id, network);
    auto ep = read_endpoint(file);
    if (!ep) return;
    network::disconnect(*ep);
    ::unlink(file.c_str());
    write_own_hosts(ctx, id);
    // its other networks' responders answered it the names of this one
    refresh_names(ctx, with_networks_of(ctx, id, {network}));
}

}  // namespace

void connect_running(const EngineContext& ctx, const ContainerRecord& rec, pid_t pid,
                     const NetworkAttachment& att) {
    check_attachments(ctx, {att});
    if (!sys::rootless()) return connect_running_here(ctx, rec, pid, att);
    // a user's: in its networks' namespace (engine/rootless_netns.h)
    in_user_netns(running_holder(ctx), [&] { connect_running_here(ctx, rec, pid, att); });
}

void disconnect_running(const EngineContext& ctx, const std::string& id,
                        const std::string& network) {
    if (!sys::rootless()) return disconnect_running_here(ctx, id, network);
    if (!sys::exists_follow(user_endpoint_file(ctx, id, network))) return;
    in_user_netns(running_holder(ctx), [&] { disconnect_running_here(ctx, id, network); });
}

}  // namespace husk::engine
