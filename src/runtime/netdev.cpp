#include "runtime/netdev.h"

#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/fd.h"

namespace husk::runtime {
namespace {

using sys::UniqueFd;

UniqueFd rtnl_socket() {
    UniqueFd s(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!s) throw_sys("socket(NETLINK_ROUTE)");
    return s;
}

// One rtnetlink request: a fixed header (ifinfomsg, ifaddrmsg) and attributes.
class Request {
  public:
    template <typename Header>
    Request(uint16_t type, uint16_t flags, const Header& header) {
        buf_.resize(NLMSG_LENGTH(sizeof(Header)));
        hdr()->nlmsg_len = static_cast<uint32_t>(buf_.size());
        hdr()->nlmsg_type = type;
        hdr()->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
        hdr()->nlmsg_seq = 1;
        std::memcpy(NLMSG_DATA(hdr()), &header, sizeof header);
    }
    void attr(uint16_t type, const void* data, size_t len) {
        size_t at = NLMSG_ALIGN(buf_.size());
        buf_.resize(at + RTA_ALIGN(RTA_LENGTH(len)));
        auto* rta = reinterpret_cast<rtattr*>(buf_.data() + at);
        rta->rta_type = type;
        rta->rta_len = static_cast<uint16_t>(RTA_LENGTH(len));
        std::memcpy(RTA_DATA(rta), data, len);
        hdr()->nlmsg_len = static_cast<uint32_t>(buf_.size());
    }
    // Send; `each` sees every answer message; returns 0 or the kernel's errno (an ack
    // or, for a dump, NLMSG_DONE ends it).
    template <typename F>
    int exchange(int sock, F&& each) {
        if (::send(sock, buf_.data(), buf_.size(), 0) < 0) throw_sys("send netlink request");
        std::vector<char> in(32768);
        for (;;) {
            ssize_t n = ::recv(sock, in.data(), in.size(), 0);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw_sys("receive netlink answer");
            if (n == 0) throw Error("netlink socket closed before the kernel answered");
            // Each message must fit in what was read; a malformed tail ends the loop.
            const auto len = static_cast<size_t>(n);
            for (size_t off = 0; off + sizeof(nlmsghdr) <= len;) {
                auto* h = reinterpret_cast<nlmsghdr*>(in.data() + off);
                if (h->nlmsg_len < sizeof(nlmsghdr) || h->nlmsg_len > len - off) break;
                if (h->nlmsg_type == NLMSG_DONE) return 0;
                if (h->nlmsg_type == NLMSG_ERROR)
                    return -static_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
                each(h);
                off += NLMSG_ALIGN(h->nlmsg_len);
            }
        }
    }
    int exchange(int sock) {
        return exchange(sock, [](const nlmsghdr*) {});
    }

  private:
    nlmsghdr* hdr() { return reinterpret_cast<nlmsghdr*>(buf_.data()); }
    std::vector<char> buf_;
};

ifinfomsg link_header(unsigned index) {
    ifinfomsg i{};
    i.ifi_family = AF_UNSPEC;
    i.ifi_index = static_cast<int>(index);
    return i;
}

// An address of the device, to put back after the move (moving drops them).
struct Address {
    ifaddrmsg header{};
    std::vector<std::pair<uint16_t, std::vector<char>>> attrs;  // IFA_LOCAL, ADDRESS, BROADCAST
};

std::vector<Address> addresses_of(int sock, unsigned index) {
    ifaddrmsg all{};
    all.ifa_family = AF_UNSPEC;
    Request dump(RTM_GETADDR, NLM_F_DUMP, all);
    std::vector<Address> out;
    int e = dump.exchange(sock, [&](const nlmsghdr* h) {
        if (h->nlmsg_type != RTM_NEWADDR) return;
        const auto* ifa = static_cast<const ifaddrmsg*>(NLMSG_DATA(h));
        // Link-local IPv6 addresses are the kernel's own: it makes new ones.
        if (ifa->ifa_index != index || ifa->ifa_scope == RT_SCOPE_LINK) return;
        Address a;
        a.header = *ifa;
        int len = static_cast<int>(IFA_PAYLOAD(h));
        for (const rtattr* rta = IFA_RTA(ifa); RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
            if (rta->rta_type == IFA_LOCAL || rta->rta_type == IFA_ADDRESS ||
                rta->rta_type == IFA_BROADCAST) {
                const char* d = static_cast<const char*>(RTA_DATA(rta));
                a.attrs.emplace_back(rta->rta_type, std::vector<char>(d, d + RTA_PAYLOAD(rta)));
            }
        out.push_back(std::move(a));
    });
    if (e != 0) throw Error(fmt::format("list addresses: {}", std::strerror(e)), e);
    return out;
}

// While alive, we are in the network namespace `fd`; our own comes back after.
class InNetns {
  public:
    explicit InNetns(int fd) : own_(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) {
        if (!own_) throw_sys("open", "/proc/self/ns/net");
        if (::setns(fd, CLONE_NEWNET) != 0) throw_sys("join the container's network namespace");
    }
    ~InNetns() { ::setns(own_.get(), CLONE_NEWNET); }
    InNetns(const InNetns&) = delete;
    InNetns& operator=(const InNetns&) = delete;

  private:
    UniqueFd own_;
};

void move_one(int host_sock, const std::string& host_name, const std::string& name, int netns_fd) {
    unsigned index = ::if_nametoindex(host_name.c_str());
    if (index == 0) throw Error("no such network interface on the host", errno);
    std::vector<Address> addrs = addresses_of(host_sock, index);
    Request move(RTM_NEWLINK, NLM_F_ACK, link_header(index));
    auto fd = static_cast<uint32_t>(netns_fd);
    move.attr(IFLA_NET_NS_FD, &fd, sizeof fd);
    if (int e = move.exchange(host_sock); e != 0)
        throw Error(
            fmt::format("move into the container's network namespace: {}", std::strerror(e)), e);
    // Inside, where the index may differ from the host's: the name, then the addresses.
    InNetns in(netns_fd);
    UniqueFd sock = rtnl_socket();
    unsigned inner = ::if_nametoindex(host_name.c_str());
    if (inner == 0) throw Error("the moved interface is gone from the container", errno);
    if (name != host_name) {
        Request rename(RTM_NEWLINK, NLM_F_ACK, link_header(inner));
        rename.attr(IFLA_IFNAME, name.c_str(), name.size() + 1);
        if (int e = rename.exchange(sock.get()); e != 0)
            throw Error(fmt::format("rename to \"{}\": {}", name, std::strerror(e)), e);
    }
    for (auto& a : addrs) {
        a.header.ifa_index = inner;
        Request add(RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, a.header);
        for (const auto& [type, data] : a.attrs) add.attr(type, data.data(), data.size());
        if (int e = add.exchange(sock.get()); e != 0 && e != EEXIST)
            throw Error(fmt::format("restore an address: {}", std::strerror(e)), e);
    }
}

}  // namespace

void move_net_devices(const std::map<std::string, oci::NetDevice>& devices, int netns_fd) {
    if (devices.empty()) return;
    UniqueFd sock = rtnl_socket();
    for (const auto& entry : devices) {
        const std::string& host_name = entry.first;
        const std::string& name = entry.second.name.empty() ? host_name : entry.second.name;
        with_context(fmt::format("linux.netDevices[\"{}\"]", host_name),
                     [&] { move_one(sock.get(), host_name, name, netns_fd); });
    }
}

}  // namespace husk::runtime
