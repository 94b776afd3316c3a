#include "runtime/netdev.h"

#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

// One RTM_NEWLINK on interface `index` with attributes; waits for the kernel's ack.
class LinkRequest {
  public:
    explicit LinkRequest(int index) {
        msg_.h.nlmsg_len = NLMSG_LENGTH(sizeof(ifinfomsg));
        msg_.h.nlmsg_type = RTM_NEWLINK;
        msg_.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
        msg_.h.nlmsg_seq = 1;
        msg_.i.ifi_family = AF_UNSPEC;
        msg_.i.ifi_index = index;
    }
    void attr(uint16_t type, const void* data, size_t len) {
        size_t at = NLMSG_ALIGN(msg_.h.nlmsg_len);
        size_t total = at + RTA_LENGTH(len);
        if (total > sizeof msg_) throw Error("netlink request too long");
        auto* rta = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&msg_) + at);
        rta->rta_type = type;
        rta->rta_len = static_cast<uint16_t>(RTA_LENGTH(len));
        std::memcpy(RTA_DATA(rta), data, len);
        msg_.h.nlmsg_len = static_cast<uint32_t>(total);
    }
    // Returns 0 or the kernel's errno.
    int send(int sock) {
        if (::send(sock, &msg_, msg_.h.nlmsg_len, 0) < 0) throw_sys("send netlink request");
        char buf[4096];
        for (;;) {
            ssize_t n = ::recv(sock, buf, sizeof buf, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw_sys("receive netlink answer");
            auto* h = reinterpret_cast<nlmsghdr*>(buf);
            for (; NLMSG_OK(h, static_cast<unsigned>(n)); h = NLMSG_NEXT(h, n))
                if (h->nlmsg_type == NLMSG_ERROR)
                    return -static_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
        }
    }

  private:
    struct {
        nlmsghdr h;
        ifinfomsg i;
        char attrs[256];
    } msg_{};
};

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
    LinkRequest move(static_cast<int>(index));
    uint32_t fd = static_cast<uint32_t>(netns_fd);
    move.attr(IFLA_NET_NS_FD, &fd, sizeof fd);
    if (int e = move.send(host_sock); e != 0)
        throw Error(
            fmt::format("move into the container's network namespace: {}", std::strerror(e)), e);
    if (name == host_name) return;
    // Renamed inside, where the index may differ from the host's.
    InNetns in(netns_fd);
    UniqueFd sock = rtnl_socket();
    unsigned inner = ::if_nametoindex(host_name.c_str());
    if (inner == 0) throw Error("the moved interface is gone from the container", errno);
    LinkRequest rename(static_cast<int>(inner));
    rename.attr(IFLA_IFNAME, name.c_str(), name.size() + 1);
    if (int e = rename.send(sock.get()); e != 0)
        throw Error(fmt::format("rename to \"{}\": {}", name, std::strerror(e)), e);
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
