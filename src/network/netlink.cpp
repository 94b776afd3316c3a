#include "network/netlink.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "network/subnet.h"
#include "sys/error.h"
#include "sys/fd.h"

namespace husk::network::nl {

namespace {

// One request: a buffer the message is built in.
struct Msg {
    std::vector<char> buf = std::vector<char>(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh;
    Msg(uint16_t type, uint16_t flags) : nlh(mnl_nlmsg_put_header(buf.data())) {
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_REQUEST | flags;
    }
    template <class T>
    T* header() {
        return static_cast<T*>(mnl_nlmsg_put_extra_header(nlh, sizeof(T)));
    }
    void put_str(uint16_t type, const std::string& s) { mnl_attr_put_strz(nlh, type, s.c_str()); }
    void put_u32(uint16_t type, uint32_t v) { mnl_attr_put_u32(nlh, type, v); }
    void put(uint16_t type, size_t len, const void* data) { mnl_attr_put(nlh, type, len, data); }
    nlattr* nest(uint16_t type) { return mnl_attr_nest_start(nlh, type); }
    void end(nlattr* n) { mnl_attr_nest_end(nlh, n); }
};

ifinfomsg* link_header(Msg& m, int family = AF_UNSPEC) {
    auto* ifi = m.header<ifinfomsg>();
    ifi->ifi_family = static_cast<unsigned char>(family);
    return ifi;
}

int link_index_of(const void* nlh, void* data) {
    const auto* ifi =
        static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(static_cast<const nlmsghdr*>(nlh)));
    *static_cast<unsigned*>(data) = static_cast<unsigned>(ifi->ifi_index);
    return MNL_CB_OK;
}

struct Reply {
    int (*fn)(const void*, void*);
    void* data;
};

int on_data(const nlmsghdr* nlh, void* data) {
    auto* r = static_cast<Reply*>(data);
    return r->fn ? r->fn(nlh, r->data) : MNL_CB_OK;
}

}  // namespace

IpAddr IpAddr::parse(const std::string& text) {
    Cidr c = parse_ip(text);
    IpAddr a;
    a.family = c.family == 4 ? AF_INET : AF_INET6;
    a.bytes = c.addr;
    return a;
}

void Socket::Closer::operator()(mnl_socket* s) const {
    mnl_socket_close(s);
}

Socket::Socket() : Socket(-1, NETLINK_ROUTE) {}

Socket Socket::netfilter() {
    return Socket(-1, NETLINK_NETFILTER);
}

Socket::Socket(int netns_fd, int protocol) {
    mnl_socket* s = nullptr;
    if (netns_fd < 0) {
        s = mnl_socket_open2(protocol, SOCK_CLOEXEC);
        if (!s) throw_sys("open a netlink socket");
    } else {
        sys::UniqueFd self(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
        if (!self) throw_sys("open", "/proc/thread-self/ns/net");
        if (::setns(netns_fd, CLONE_NEWNET) != 0) throw_sys("enter the network namespace");
        s = mnl_socket_open2(protocol, SOCK_CLOEXEC);
        int err = errno;
        if (::setns(self.get(), CLONE_NEWNET) != 0) {
            // a thread stuck in a container's namespace must not go on
            if (s) mnl_socket_close(s);
            throw_sys("return to the host's network namespace");
        }
        if (!s) throw_sys("open a netlink socket", {}, err);
    }
    sock_.reset(s);
    if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) != 0) throw_sys("bind a netlink socket");
    port_ = mnl_socket_get_portid(s);
}

Socket Socket::in_netns(const std::string& netns_path) {
    sys::UniqueFd ns(::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns) throw_sys("open the network namespace", netns_path);
    return Socket(ns.get(), NETLINK_ROUTE);
}

int Socket::request(void* nlh) {
    return request(nlh, nullptr, nullptr);
}

int Socket::request(void* msg, int (*on_reply)(const void*, void*), void* data) {
    auto* nlh = static_cast<nlmsghdr*>(msg);
    nlh->nlmsg_flags |= NLM_F_ACK;
    nlh->nlmsg_seq = ++seq_;
    if (mnl_socket_sendto(sock_.get(), nlh, nlh->nlmsg_len) < 0) return errno;
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    Reply reply{on_reply, data};
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(sock_.get(), buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        int rc =
            mnl_cb_run(buf.data(), static_cast<size_t>(n), nlh->nlmsg_seq, port_, on_data, &reply);
        if (rc == MNL_CB_ERROR) return errno;
        if (rc == MNL_CB_STOP) return 0;
    }
}

unsigned Socket::link_index(const std::string& name) {
    Msg m(RTM_GETLINK, 0);
    link_header(m);
    m.put_str(IFLA_IFNAME, name);
    unsigned index = 0;
    int err = request(m.nlh, link_index_of, &index);
    if (err == ENODEV) return 0;
    check(err, "look up the link", name);
    return index;
}

int Socket::create_bridge(const std::string& name, const std::array<uint8_t, 6>& mac) {
    Msg m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    link_header(m);
    m.put_str(IFLA_IFNAME, name);
    m.put(IFLA_ADDRESS, mac.size(), mac.data());
    nlattr* info = m.nest(IFLA_LINKINFO);
    m.put_str(IFLA_INFO_KIND, "bridge");
    m.end(info);
    return request(m.nlh);
}

int Socket::create_veth(const std::string& host, unsigned master, const std::string& peer,
                        int peer_netns_fd, const std::array<uint8_t, 6>& peer_mac) {
    Msg m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    auto* ifi = link_header(m);
    ifi->ifi_flags = IFF_UP;
    ifi->ifi_change = IFF_UP;
    m.put_str(IFLA_IFNAME, host);
    m.put_u32(IFLA_MASTER, master);
    nlattr* info = m.nest(IFLA_LINKINFO);
    m.put_str(IFLA_INFO_KIND, "veth");
    nlattr* data = m.nest(IFLA_INFO_DATA);
    nlattr* peer_info = m.nest(VETH_INFO_PEER);
    // the peer's ifinfomsg comes first in VETH_INFO_PEER, then its attributes
    auto* pifi = static_cast<ifinfomsg*>(mnl_nlmsg_get_payload_tail(m.nlh));
    std::memset(pifi, 0, sizeof *pifi);
    m.nlh->nlmsg_len += MNL_ALIGN(sizeof *pifi);
    m.put_str(IFLA_IFNAME, peer);
    m.put_u32(IFLA_NET_NS_FD, static_cast<uint32_t>(peer_netns_fd));
    m.put(IFLA_ADDRESS, peer_mac.size(), peer_mac.data());
    m.end(peer_info);
    m.end(data);
    m.end(info);
    return request(m.nlh);
}

int Socket::set_address(unsigned index, const std::array<uint8_t, 6>& mac) {
    Msg m(RTM_NEWLINK, 0);
    auto* ifi = link_header(m);
    ifi->ifi_index = static_cast<int>(index);
    m.put(IFLA_ADDRESS, mac.size(), mac.data());
    return request(m.nlh);
}

int Socket::set_up(unsigned index) {
    Msg m(RTM_NEWLINK, 0);
    auto* ifi = link_header(m);
    ifi->ifi_index = static_cast<int>(index);
    ifi->ifi_flags = IFF_UP;
    ifi->ifi_change = IFF_UP;
    return request(m.nlh);
}

int Socket::set_hairpin(unsigned index) {
    Msg m(RTM_SETLINK, 0);
    auto* ifi = link_header(m, AF_BRIDGE);
    ifi->ifi_index = static_cast<int>(index);
    nlattr* prot = m.nest(IFLA_PROTINFO | NLA_F_NESTED);
    uint8_t on = 1;
    m.put(IFLA_BRPORT_MODE, sizeof on, &on);
    m.end(prot);
    return request(m.nlh);
}

int Socket::add_address(unsigned index, const IpAddr& addr, int prefix, bool nodad) {
    Msg m(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
    auto* ifa = m.header<ifaddrmsg>();
    ifa->ifa_family = static_cast<unsigned char>(addr.family);
    ifa->ifa_prefixlen = static_cast<unsigned char>(prefix);
    ifa->ifa_index = index;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    if (nodad) ifa->ifa_flags = IFA_F_NODAD;
    m.put(IFA_LOCAL, addr.size(), addr.bytes.data());
    m.put(IFA_ADDRESS, addr.size(), addr.bytes.data());
    return request(m.nlh);
}

int Socket::add_default_route(unsigned index, const IpAddr& gateway) {
    Msg m(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
    auto* rt = m.header<rtmsg>();
    rt->rtm_family = static_cast<unsigned char>(gateway.family);
    rt->rtm_table = RT_TABLE_MAIN;
    rt->rtm_protocol = RTPROT_BOOT;
    rt->rtm_scope = RT_SCOPE_UNIVERSE;
    rt->rtm_type = RTN_UNICAST;
    m.put(RTA_GATEWAY, gateway.size(), gateway.bytes.data());
    m.put_u32(RTA_OIF, index);
    return request(m.nlh);
}

int Socket::delete_link(const std::string& name) {
    Msg m(RTM_DELLINK, 0);
    link_header(m);
    m.put_str(IFLA_IFNAME, name);
    return request(m.nlh);
}

namespace {

int table_handle_of(const void* msg, void* data) {
    auto on_attr = [](const nlattr* attr, void* out) {
        if (mnl_attr_get_type(attr) == NFTA_TABLE_HANDLE &&
            mnl_attr_validate(attr, MNL_TYPE_U64) == 0)
            *static_cast<uint64_t*>(out) = be64toh(mnl_attr_get_u64(attr));
        return MNL_CB_OK;
    };
    return mnl_attr_parse(static_cast<const nlmsghdr*>(msg), sizeof(nfgenmsg), on_attr, data);
}

}  // namespace

uint64_t Socket::nft_table_handle(int family, const std::string& name) {
    Msg m((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE, 0);
    auto* nfg = m.header<nfgenmsg>();
    nfg->nfgen_family = static_cast<uint8_t>(family);
    nfg->version = NFNETLINK_V0;
    m.put_str(NFTA_TABLE_NAME, name);
    uint64_t handle = 0;
    int err = request(m.nlh, table_handle_of, &handle);
    if (err == ENOENT) return 0;
    check(err, "look up the nftables table", name);
    return handle;
}

bool Socket::BatchResult::ok() const {
    if (batch != 0) return false;
    for (int e : errors)
        if (e != 0) return false;
    return true;
}

namespace {

// A batch's begin or end marker of nftables' subsystem.
void put_batch_marker(std::vector<char>& out, uint16_t type, uint32_t seq) {
    size_t at = out.size();
    out.resize(at + MNL_ALIGN(sizeof(nlmsghdr)) + MNL_ALIGN(sizeof(nfgenmsg)));
    auto* nlh = mnl_nlmsg_put_header(out.data() + at);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST;
    nlh->nlmsg_seq = seq;
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = AF_UNSPEC;
    nfg->version = NFNETLINK_V0;
    nfg->res_id = htons(NFNL_SUBSYS_NFTABLES);
}

}  // namespace

Socket::BatchResult Socket::nft_batch(std::vector<std::vector<char>> msgs) {
    BatchResult result;
    result.errors.assign(msgs.size(), 0);
    std::vector<char> out;
    uint32_t begin = ++seq_;
    put_batch_marker(out, NFNL_MSG_BATCH_BEGIN, begin);
    for (auto& m : msgs) {
        auto* nlh = reinterpret_cast<nlmsghdr*>(m.data());
        nlh->nlmsg_flags |= NLM_F_ACK;
        nlh->nlmsg_seq = ++seq_;
        out.insert(out.end(), m.data(), m.data() + MNL_ALIGN(nlh->nlmsg_len));
    }
    put_batch_marker(out, NFNL_MSG_BATCH_END, ++seq_);
    if (mnl_socket_sendto(sock_.get(), out.data(), out.size()) < 0) {
        result.batch = errno;
        return result;
    }
    // The kernel handles the batch within the send: every reply is queued by now (one
    // ack or error a message, or one error for the batch itself), so the socket is read
    // until it is empty.
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    size_t answered = 0;
    while (answered < msgs.size() && result.batch == 0) {
        ssize_t n = ::recv(mnl_socket_get_fd(sock_.get()), buf.data(), buf.size(), MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            result.batch = errno == EAGAIN ? EPROTO : errno;  // EPROTO: a reply missing
            break;
        }
        int left = static_cast<int>(n);
        for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data()); mnl_nlmsg_ok(nlh, left);
             nlh = mnl_nlmsg_next(nlh, &left)) {
            if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_pid != port_) continue;
            const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
            uint32_t seq = nlh->nlmsg_seq;
            if (seq > begin && seq - begin <= msgs.size()) {
                result.errors[seq - begin - 1] = -err->error;
                ++answered;
            } else if (err->error != 0) {
                result.batch = -err->error;
            }
        }
    }
    return result;
}

void check(int err, std::string_view op, const std::string& what) {
    if (err != 0) throw SysError(op, what, err);
}

}  // namespace husk::network::nl
