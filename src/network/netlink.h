// rtnetlink through libmnl: the few link, address and route requests husk's bridge
// network needs, each one message acknowledged by the kernel. A Socket belongs to the
// network namespace it was opened in (the current one, or a pinned one), so requests
// for a container's interfaces need no setns of the calling thread afterwards.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct mnl_socket;

namespace husk::network::nl {

// An IPv4 or IPv6 address as the kernel takes it.
struct IpAddr {
    int family = AF_INET;  // AF_INET | AF_INET6
    std::array<uint8_t, 16> bytes{};
    // Parses "10.66.0.5" or "fd00::5"; throws husk::Error naming the text.
    static IpAddr parse(const std::string& text);
    size_t size() const { return family == AF_INET ? 4 : 16; }
};

class Socket {
  public:
    // A NETLINK_ROUTE socket in the current network namespace.
    Socket();
    // A NETLINK_NETFILTER one (nftables' requests).
    static Socket netfilter();
    // One in the namespace pinned (or /proc/PID/ns/net) at `netns_path`: the calling
    // thread enters it for the socket() call only.
    static Socket in_netns(const std::string& netns_path);

    // The index of link `name`, 0 when there is none.
    unsigned link_index(const std::string& name);
    // Creates bridge `name` (kernel errno: EEXIST when it exists).
    int create_bridge(const std::string& name, const std::array<uint8_t, 6>& mac);
    // Sets link `index`'s MAC address (the kernel then keeps it: a bridge's no longer
    // follows its ports').
    int set_address(unsigned index, const std::array<uint8_t, 6>& mac);
    // Creates the veth pair `host` (enslaved to `master`, up) and `peer`, created in the
    // network namespace `peer_netns_fd` with the MAC `peer_mac`.
    int create_veth(const std::string& host, unsigned master, const std::string& peer,
                    int peer_netns_fd, const std::array<uint8_t, 6>& peer_mac);
    // Brings link `index` up.
    int set_up(unsigned index);
    // Hairpin mode on the bridge port `index` (a container reaches itself through the
    // host's published ports).
    int set_hairpin(unsigned index);
    // Adds addr/prefix to link `index`; `nodad`: usable at once (IPv6).
    int add_address(unsigned index, const IpAddr& addr, int prefix, bool nodad);
    // Adds the default route via `gateway` out of link `index`.
    int add_default_route(unsigned index, const IpAddr& gateway);
    // Deletes link `name` (ENODEV when there is none).
    int delete_link(const std::string& name);

    // netfilter: the handle of nftables table `name` of `family` (NFPROTO_INET, ...), 0
    // when there is none. A table made again gets a new handle.
    uint64_t nft_table_handle(int family, const std::string& name);
    // netfilter: nftables messages (each one whole nlmsghdr, as libnftnl builds them;
    // their sequence numbers and NLM_F_ACK are set here) sent as one batch, so one
    // transaction: all of them take effect or none. The kernel's errno for each message
    // in order (0 when it had none: a batch with any error is undone whole), or one for
    // the whole batch when the kernel refused the batch itself.
    struct BatchResult {
        int batch = 0;
        std::vector<int> errors;
        bool ok() const;
    };
    BatchResult nft_batch(std::vector<std::vector<char>> msgs);

  private:
    Socket(int netns_fd, int protocol);
    struct Closer {
        void operator()(mnl_socket* s) const;
    };
    std::unique_ptr<mnl_socket, Closer> sock_;
    unsigned port_ = 0;
    unsigned seq_ = 0;
    // Sends the message in buf_ (NLM_F_ACK added) and waits for its ack: 0 or errno.
    int request(void* nlh);
    // A reply's payload handed to `on_reply` (may be null) before the ack.
    int request(void* nlh, int (*on_reply)(const void* nlh, void* data), void* data);
};

// Throws husk::SysError("op", what, err) unless err is 0.
void check(int err, std::string_view op, const std::string& what);

}  // namespace husk::network::nl
