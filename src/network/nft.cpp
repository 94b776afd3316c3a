#include "network/nft.h"

#include <arpa/inet.h>
#include <netinet/in.h>  // before the kernel's headers: they then leave glibc's in_addr be
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <memory>

#include <fmt/format.h>
#include <nftables/libnftables.h>

#include "network/iptables.h"
#include "network/isolation.h"
#include "network/netlink.h"
#include "network/statepath.h"
#include "network/subnet.h"
#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/log.h"
#include "sys/user_dirs.h"

namespace husk::network {

namespace {

// The table, its sets and maps, and every rule: made once, in one transaction.
constexpr const char* kTable = R"(table inet husk {
  map from_bridge { type ifname : verdict; }
  map to_internal { type ifname : verdict; }
  set masq4 { type ipv4_addr; flags interval; }
  set masq6 { type ipv6_addr; flags interval; }
  map ports { type inet_proto . inet_service : ipv4_addr . inet_service; }
  map ports_ip { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }
  map ports6 { type inet_proto . inet_service : ipv6_addr . inet_service; }
  map ports6_ip { type ipv6_addr . inet_proto . inet_service : ipv6_addr . inet_service; }
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    fib daddr type local jump hostports
  }
  chain output {
    type nat hook output priority -100; policy accept;
    fib daddr type local jump hostports
  }
  chain hostports {
    meta nfproto ipv4 dnat ip to ip daddr . meta l4proto . th dport map @ports_ip
    meta nfproto ipv4 dnat ip to meta l4proto . th dport map @ports
    meta nfproto ipv6 ip6 daddr != ::1 dnat ip6 to ip6 daddr . meta l4proto . th dport map @ports6_ip
    meta nfproto ipv6 ip6 daddr != ::1 dnat ip6 to meta l4proto . th dport map @ports6
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr @masq4 ip daddr != @masq4 masquerade
    ip6 saddr @masq6 ip6 daddr != @masq6 masquerade
    ct status dnat ip saddr 127.0.0.0/8 masquerade
    ct status dnat ip saddr @masq4 ip daddr @masq4 masquerade
    ct status dnat ip6 saddr @masq6 ip6 daddr @masq6 masquerade
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname vmap @from_bridge
    oifname vmap @to_internal
  }
}
)";

struct CtxFree {
    void operator()(nft_ctx* c) const { nft_ctx_free(c); }
};

class Nft {
  public:
    Nft() : ctx_(nft_ctx_new(NFT_CTX_DEFAULT)) {
        if (!ctx_) throw Error("nftables: cannot create a context");
        nft_ctx_buffer_output(ctx_.get());
        nft_ctx_buffer_error(ctx_.get());
    }
    // Runs `cmds` as one transaction; "" on success, else nftables' message.
    std::string run(const std::string& cmds) {
        if (nft_run_cmd_from_buffer(ctx_.get(), cmds.c_str()) == 0) return {};
        std::string err = nft_ctx_get_error_buffer(ctx_.get());
        // the first line is the message; the rest points at the command
        return err.substr(0, err.find('\n'));
    }
    std::string output() { return nft_ctx_get_output_buffer(ctx_.get()); }

  private:
    std::unique_ptr<nft_ctx, CtxFree> ctx_;
};

// A port's element in its map: "ports_ip", "tcp . 8080" or "127.0.0.1 . tcp . 8080" and
// "10.66.0.5 . 80" (ports without a host IP; ports6 and ports6_ip to an IPv6 `to`).
struct PortElement {
    const PortMapping& port;
    std::string to;
    bool any() const { return port.host_ip.empty() || port.host_ip == "::"; }
    std::string map() const {
        bool v6 = to.find(':') != std::string::npos;
        return fmt::format("ports{}{}", v6 ? "6" : "", any() ? "" : "_ip");
    }
    std::string key() const {
        std::string k = fmt::format("{} . {}", port.protocol, port.host_port);
        return any() ? k : fmt::format("{} . {}", port.host_ip, k);
    }
    std::string value() const { return fmt::format("{} . {}", to, port.container_port); }
    // As nft takes it: "ports_ip { KEY : VALUE }"; `key_only` leaves the value out.
    std::string text(bool key_only) const {
        return fmt::format("{} {{ {}{} }}", map(), key(),
                           key_only ? "" : fmt::format(" : {}", value()));
    }
};

std::string port_element(const PortMapping& p, const std::string& to, bool key_only) {
    return PortElement{p, to}.text(key_only);
}

// nftables' layout of a concatenation: each field in network order, zero-padded to a
// multiple of 4 bytes (a register's).
class Concat {
  public:
    Concat& addr(const std::string& text) {
        Cidr a = parse_ip(text);
        return put(a.addr.data(), a.family == 4 ? 4 : 16);
    }
    Concat& proto(const std::string& name) {
        uint8_t p = name == "udp" ? IPPROTO_UDP : IPPROTO_TCP;
        return put(&p, 1);
    }
    Concat& port(uint16_t port) {
        uint16_t be = htons(port);
        return put(&be, 2);
    }
    const std::vector<uint8_t>& bytes() const { return bytes_; }

  private:
    Concat& put(const void* data, size_t len) {
        const auto* b = static_cast<const uint8_t*>(data);
        bytes_.insert(bytes_.end(), b, b + len);
        bytes_.resize((bytes_.size() + 3) / 4 * 4);
        return *this;
    }
    std::vector<uint8_t> bytes_;
};

struct SetFree {
    void operator()(nftnl_set* s) const { nftnl_set_free(s); }
};

// The netlink message adding (NFT_MSG_NEWSETELEM: of the same value again is no error,
// over another value is EEXIST) or deleting (NFT_MSG_DELSETELEM: ENOENT when it is not
// there) element `e`, built by libnftnl.
std::vector<char> element_message(uint16_t type, const PortElement& e) {
    Concat key;
    if (!e.any()) key.addr(e.port.host_ip);
    key.proto(e.port.protocol).port(e.port.host_port);
    std::unique_ptr<nftnl_set, SetFree> set(nftnl_set_alloc());
    nftnl_set_elem* elem = nftnl_set_elem_alloc();
    if (!set || !elem) throw Error("nftables: out of memory");
    nftnl_set_elem_add(set.get(), elem);  // the set owns it from here
    nftnl_set_set_str(set.get(), NFTNL_SET_TABLE, "husk");
    nftnl_set_set_str(set.get(), NFTNL_SET_NAME, e.map().c_str());
    nftnl_set_elem_set(elem, NFTNL_SET_ELEM_KEY, key.bytes().data(),
                       static_cast<uint32_t>(key.bytes().size()));
    if (type == NFT_MSG_NEWSETELEM) {
        Concat value;
        value.addr(e.to).port(e.port.container_port);
        nftnl_set_elem_set(elem, NFTNL_SET_ELEM_DATA, value.bytes().data(),
                           static_cast<uint32_t>(value.bytes().size()));
    }
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), type, NFPROTO_INET,
                                          type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0, 0);
    nftnl_set_elems_nlmsg_build_payload(nlh, set.get());
    buf.resize(nlh->nlmsg_len);
    return buf;
}

// Element changes sent straight to the kernel as one transaction (libnftables would
// first fetch every table of the host into its cache: tens of ms).
struct ElementBatch {
    std::vector<std::pair<uint16_t, PortElement>> changes;
    void add(uint16_t type, const PortElement& e) { changes.emplace_back(type, e); }
    nl::Socket::BatchResult send() const {
        std::vector<std::vector<char>> msgs;
        for (auto& [type, e] : changes) msgs.push_back(element_message(type, e));
        return nl::Socket::netfilter().nft_batch(std::move(msgs));
    }
    // What failed, as the kernel said: "add element ports { tcp . 8080 : 10.66.0.5 . 80 }:
    // EEXIST (File exists)" ("" when nothing did), and its errno.
    std::pair<std::string, int> failure(const nl::Socket::BatchResult& r) const {
        if (r.batch != 0)
            return {describe_sys("send a batch of element changes", {}, r.batch), r.batch};
        for (size_t i = 0; i < changes.size(); ++i)
            if (int err = r.errors[i]; err != 0) {
                auto& [type, e] = changes[i];
                bool add = type == NFT_MSG_NEWSETELEM;
                auto op = fmt::format("{} element {}", add ? "add" : "delete", e.text(!add));
                return {describe_sys(op, {}, err), err};
            }
        return {"", 0};
    }
    // Did it fail only for want of the table or a map (ENOENT on adds: none yet, or an
    // older husk's table)?
    bool missing(const nl::Socket::BatchResult& r) const {
        bool any = false;
        for (size_t i = 0; i < changes.size(); ++i) {
            if (r.errors[i] == 0) continue;
            if (r.errors[i] != ENOENT || changes[i].first != NFT_MSG_NEWSETELEM) return false;
            any = true;
        }
        return r.batch == 0 && any;
    }
};

// The container's addresses `p` leads to: its IPv4 one for an IPv4 host address, its IPv6
// one for an IPv6 host address, both for every address ("" when it has none). None for
// ::1, which no NAT reaches (husk-proxy's, network/portproxy.h).
std::vector<std::string> targets(const PortMapping& p, const std::string& ip,
                                 const std::string& ip6) {
    if (p.host_ip == "::1") return {};
    if (p.host_ip.empty()) return ip6.empty() ? std::vector{ip} : std::vector{ip, ip6};
    if (is_ipv6(p)) return ip6.empty() ? std::vector<std::string>{} : std::vector{ip6};
    return {ip};
}

// A network's chains and elements. Isolation: what leaves its bridge for another husk
// bridge is dropped (from-BR, jumped to through the from_bridge map), and an internal
// network's traffic goes nowhere beyond its bridge either way (to-BR through
// to_internal); bridges this table does not know (a husk of the CNI path) pass. The
// chains are flushed and filled again, so the whole is idempotent.
std::string network_elements(const Network& net) {
    const std::string& br = net.bridge;
    std::string out = fmt::format(
        "add chain inet husk from-{0}\nflush chain inet husk from-{0}\n"
        "add rule inet husk from-{0} oifname \"{0}\" return\n"
        "add rule inet husk from-{0} oifname \"husk*\" drop\n",
        br);
    if (net.internal)
        out += fmt::format(
            "add rule inet husk from-{0} drop\n"
            "add chain inet husk to-{0}\nflush chain inet husk to-{0}\n"
            "add rule inet husk to-{0} iifname \"{0}\" return\n"
            "add rule inet husk to-{0} drop\n"
            "add element inet husk to_internal {{ \"{0}\" : jump to-{0} }}\n",
            br);
    out += fmt::format("add element inet husk from_bridge {{ \"{0}\" : jump from-{0} }}\n", br);
    if (!net.internal) {
        out += fmt::format("add element inet husk masq4 {{ {} }}\n", net.subnet);
        if (!net.subnet6.empty())
            out += fmt::format("add element inet husk masq6 {{ {} }}\n", net.subnet6);
    }
    return out;
}

// What removes them again, whichever of them are there (made first, then deleted).
std::string network_removal(const Network& net) {
    Network both = net;
    both.internal = true;  // its chains and map elements, made if missing
    std::string out = network_elements(both);
    const std::string& br = net.bridge;
    out += fmt::format(
        "delete element inet husk from_bridge {{ \"{0}\" }}\n"
        "delete element inet husk to_internal {{ \"{0}\" }}\n"
        "delete chain inet husk from-{0}\ndelete chain inet husk to-{0}\n",
        br);
    if (!net.internal) {
        out += fmt::format(
            "add element inet husk masq4 {{ {0} }}\ndelete element inet husk masq4 {{ {0} }}\n",
            net.subnet);
        if (!net.subnet6.empty())
            out += fmt::format(
                "add element inet husk masq6 {{ {0} }}\ndelete element inet husk masq6 {{ {0} }}\n",
                net.subnet6);
    }
    return out;
}

// Where another table's FORWARD policy drops (docker keeps one), an accept of ours
// does not let the containers' traffic through: the iptables filter table's FORWARD
// chain gets accepts for husk's bridges.
void accept_in_forward_policy_drop(Nft& nft) {
    if (!nft.run("list chain ip filter FORWARD").empty()) return;
    if (nft.output().find("policy drop") == std::string::npos) return;
    ensure_rule(
        "filter", "FORWARD",
        {"-o", "husk+", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"},
        true);
    ensure_rule("filter", "FORWARD", {"-i", "husk+", "-j", "ACCEPT"}, true);
}

std::string markers() {
    return state_path("/run/husk-nftables");
}

// A table made by a husk of before IPv6 ports: their maps and rules added, once (under the
// table's lock). False when there was nothing to add.
bool upgrade_table(Nft& nft) {
    sys::FileLock lock(state_path("/run/husk-nftables.lock"), sys::FileLock::exclusive);
    if (nft.run("list map inet husk ports6").empty()) return false;
    std::string err = nft.run(
        "add map inet husk ports6 { type inet_proto . inet_service : ipv6_addr . inet_service; }\n"
        "add map inet husk ports6_ip { type ipv6_addr . inet_proto . inet_service : "
        "ipv6_addr . inet_service; }\n"
        "add rule inet husk hostports meta nfproto ipv6 ip6 daddr != ::1 dnat ip6 to ip6 daddr . "
        "meta l4proto . th dport map @ports6_ip\n"
        "add rule inet husk hostports meta nfproto ipv6 ip6 daddr != ::1 dnat ip6 to meta "
        "l4proto . th dport map @ports6\n"
        "add rule inet husk postrouting ct status dnat ip6 saddr @masq6 ip6 daddr @masq6 "
        "masquerade\n");
    if (!err.empty())
        throw Error(error_format("nftables: add IPv6 ports to table inet husk: {}", err));
    return true;
}

// The table, unless it is there (under a host-wide lock: made once).
void ensure_table(Nft& nft) {
    sys::FileLock lock(state_path("/run/husk-nftables.lock"), sys::FileLock::exclusive);
    if (nft.run("list table inet husk").empty()) return;
    if (auto err = nft.run(kTable); !err.empty())
        throw Error(error_format("nftables: create table inet husk: {}", err));
    accept_in_forward_policy_drop(nft);
    // made for the first time this boot (or again after a flush): what an older husk of the
    // CNI path left in iptables goes now (a user's table is in its own namespace: none there)
    if (!sys::rootless()) {
        try {
            remove_cni_era_rules();
        } catch (const std::exception& e) {
            log::warn("remove the iptables rules of an older husk: {}", e.what());
        }
    }
}

// A network's elements are in the table when its marker holds the table's handle: they
// were added to this very table (one made again, or flushed and made again, has
// another handle). Checked with one netlink request, so a container without -p needs no
// nftables transaction at all (libnftables' cache of every table on the host costs
// tens of ms on a busy VM).
std::string marker(const Network& net) {
    return fmt::format("{}/{}", markers(), net.bridge);
}

uint64_t table_handle() {
    return nl::Socket::netfilter().nft_table_handle(NFPROTO_INET, "husk");
}

}  // namespace

void check_ipv6_ports(const Network& net, const std::vector<PortMapping>& ports) {
    if (!net.subnet6.empty()) return;
    for (auto& p : ports)
        if (is_ipv6(p) && p.host_ip != "::1")
            throw Error(
                error_format("publish {}: network {} has no IPv6 (husk network create --ipv6)",
                             to_string(p), net.name));
}

void nft_connect(const Network& net, const std::string& ip, const std::string& ip6,
                 const std::vector<PortMapping>& ports) {
    check_ipv6_ports(net, ports);
    uint64_t handle = table_handle();
    auto mark = sys::read_file_if_exists(marker(net));
    bool elements = handle == 0 || !mark || *mark != fmt::format("{}", handle);
    if (!elements) {
        // the network's part of the table is there: only the ports' elements, sent
        // straight to the kernel
        ElementBatch batch;
        for (auto& p : ports)
            for (auto& to : targets(p, ip, ip6)) batch.add(NFT_MSG_NEWSETELEM, PortElement{p, to});
        if (batch.changes.empty()) return;
        auto result = batch.send();
        if (result.ok()) return;
        if (!batch.missing(result)) {
            auto [what, err] = batch.failure(result);
            throw Error(error_format("nftables: add the ports of network {}: {}", net.name, what),
                        err);
        }
        // a map an older husk's table lacks: made below
    }
    std::string cmds = elements ? network_elements(net) : "";
    for (auto& p : ports)
        for (auto& to : targets(p, ip, ip6))
            cmds += fmt::format("add element inet husk {}\n", port_element(p, to, false));
    if (cmds.empty()) return;
    Nft nft;
    std::string err = nft.run(cmds);
    if (!err.empty()) {
        ensure_table(nft);
        err = nft.run(cmds);
    }
    if (!err.empty() && upgrade_table(nft)) err = nft.run(cmds);
    if (!err.empty())
        throw Error(error_format("nftables: add the rules of network {}: {}", net.name, err));
    if (elements) {
        sys::mkdir_all(markers(), 0700);
        sys::write_file_atomic(marker(net), fmt::format("{}", table_handle()), 0600);
    }
}

void nft_disconnect(const std::string& ip, const std::string& ip6,
                    const std::vector<PortMapping>& ports) {
    if (ports.empty()) return;
    // "add" first: a delete of an element that is not there fails, an add of ours again
    // does not, and an add over another container's port fails (and leaves it).
    auto pair = [&](ElementBatch& batch, const PortMapping& p) {
        for (auto& to : targets(p, ip, ip6)) {
            batch.add(NFT_MSG_NEWSETELEM, PortElement{p, to});
            batch.add(NFT_MSG_DELSETELEM, PortElement{p, to});
        }
    };
    ElementBatch all;
    for (auto& p : ports) pair(all, p);
    if (all.changes.empty()) return;
    auto result = all.send();
    if (result.ok()) return;
    // one port at a time: the others' go even when one is another container's now (or
    // the table or its map is gone: nothing to remove)
    for (auto& p : ports) {
        ElementBatch one;
        pair(one, p);
        if (one.changes.empty()) continue;
        auto r = one.send();
        if (!r.ok())
            log::debug("nftables: port {} of {} not removed: {}", to_string(p), ip,
                       one.failure(r).first);
    }
}

void nft_remove_network(const Network& net) {
    ::unlink(marker(net).c_str());
    Nft nft;
    if (!nft.run("list table inet husk").empty()) return;
    std::string cmds = network_removal(net);
    if (auto err = nft.run(cmds); !err.empty())
        throw Error(error_format("nftables: remove the rules of network {}: {}", net.name, err));
}

}  // namespace husk::network
