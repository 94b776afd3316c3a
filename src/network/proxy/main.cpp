// husk-proxy: the published ports of one container endpoint that nftables cannot carry:
// those on the host's IPv6 loopback address (the kernel routes no packet of ::1 out of
// the host, so a DNAT of [::1]:PORT is never answered; docker runs docker-proxy for the
// same reason). Started by the endpoint's connect (network/portproxy.h), killed by its
// disconnect.
//
// usage: husk-proxy LOCK_FD READY_FD DIR (PROTO LISTEN_IP LISTEN_PORT TARGET_IP TARGET_PORT)...
//   LOCK_FD, READY_FD, DIR  as network/daemon.h says (we write DIR/pid)
//   PROTO  tcp: each connection relayed by a child of ours (dies with us);
//          udp: each client's datagrams through a socket of its own to the target
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "network/daemon.h"
#include "network/subnet.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/syscalls.h"

namespace {

using husk::sys::UniqueFd;

constexpr size_t kMaxFlows = 256;  // UDP clients remembered at once
constexpr int kConnectTimeoutS = 5;

using Address = husk::network::SocketAddress;

Address address(const std::string& ip, const std::string& port_text) {
    int port = std::atoi(port_text.c_str());
    if (port <= 0 || port > 65535) throw husk::Error(fmt::format("invalid port {}", port_text));
    return husk::network::socket_address(husk::network::parse_ip(ip), static_cast<uint16_t>(port));
}

struct Listener {
    UniqueFd fd;
    bool udp = false;
    Address target;
};

struct Flow {  // one UDP client
    size_t listener = 0;
    Address client;
    UniqueFd up;  // connected to the target
};

// Copies both ways until both sides are done (each EOF passed on as a half close).
[[noreturn]] void relay(int client, const Address& target) {
    UniqueFd up(::socket(target.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
    timeval tv{kConnectTimeoutS, 0};
    if (up) ::setsockopt(up.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (!up || ::connect(up.get(), target.get(), target.len) != 0) ::_exit(1);
    std::array<int, 2> fds{client, up.get()};
    std::array<bool, 2> open{true, true};
    std::vector<char> buf(size_t{64} * 1024);
    while (open[0] || open[1]) {
        std::array<pollfd, 2> p{pollfd{open[0] ? fds[0] : -1, POLLIN, 0},
                                pollfd{open[1] ? fds[1] : -1, POLLIN, 0}};
        if (::poll(p.data(), p.size(), -1) < 0) {
            if (errno == EINTR) continue;
            ::_exit(1);
        }
        for (size_t i = 0; i < 2; ++i) {
            if (p[i].revents == 0) continue;
            ssize_t n = ::read(fds[i], buf.data(), buf.size());
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                open[i] = false;
                ::shutdown(fds[1 - i], SHUT_WR);
                if (n < 0) ::_exit(0);
                continue;
            }
            if (!husk::sys::write_all(fds[1 - i], buf.data(), static_cast<size_t>(n))) ::_exit(0);
        }
    }
    ::_exit(0);
}

class Proxy {
  public:
    explicit Proxy(std::vector<Listener> listeners) : listeners_(std::move(listeners)) {}

    [[noreturn]] void run() {
        for (;;) {
            std::vector<pollfd> fds;
            for (auto& l : listeners_) fds.push_back({l.fd.get(), POLLIN, 0});
            for (auto& f : flows_) fds.push_back({f.up.get(), POLLIN, 0});
            if (::poll(fds.data(), fds.size(), -1) < 0) {
                if (errno == EINTR) continue;
                husk::throw_sys("poll");
            }
            for (size_t i = flows_.size(); i-- > 0;)
                if (fds[listeners_.size() + i].revents != 0) reply(i);
            for (size_t i = 0; i < listeners_.size(); ++i)
                if (fds[i].revents & POLLIN) listeners_[i].udp ? datagram(i) : accept_tcp(i);
        }
    }

  private:
    void accept_tcp(size_t i) {
        UniqueFd conn(::accept4(listeners_[i].fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!conn) return;
        pid_t parent = ::getpid();
        if (::fork() != 0) return;
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(0);  // the proxy died before the line above
        // only the connection: not the lock (stop waits for it), not the listeners (a
        // relay still running must not hold the ports a next proxy binds)
        husk::sys::close_fds_except(3, {conn.get()});
        relay(conn.get(), listeners_[i].target);
    }

    void datagram(size_t i) {
        std::vector<char> buf(65536);
        Address from;
        from.len = sizeof from.storage;
        ssize_t n = ::recvfrom(listeners_[i].fd.get(), buf.data(), buf.size(), MSG_DONTWAIT,
                               from.get(), &from.len);
        if (n < 0) return;
        Flow* flow = nullptr;
        for (auto& f : flows_)
            if (f.listener == i && f.client.len == from.len &&
                std::memcmp(&f.client.storage, &from.storage, from.len) == 0)
                flow = &f;
        if (!flow) {
            const Address& t = listeners_[i].target;
            UniqueFd up(::socket(t.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
            if (!up || ::connect(up.get(), t.get(), t.len) != 0) return;
            if (flows_.size() >= kMaxFlows) flows_.pop_front();  // the oldest client
            flows_.push_back({i, from, std::move(up)});
            flow = &flows_.back();
        }
        (void)::send(flow->up.get(), buf.data(), static_cast<size_t>(n), MSG_DONTWAIT);
    }

    void reply(size_t i) {
        Flow& f = flows_[i];
        std::vector<char> buf(65536);
        ssize_t n = ::recv(f.up.get(), buf.data(), buf.size(), MSG_DONTWAIT);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            flows_.erase(flows_.begin() + static_cast<std::ptrdiff_t>(i));
            return;
        }
        if (n >= 0)
            (void)::sendto(listeners_[f.listener].fd.get(), buf.data(), static_cast<size_t>(n),
                           MSG_DONTWAIT, f.client.get(), f.client.len);
    }

    std::vector<Listener> listeners_;
    std::deque<Flow> flows_;
};

Listener listen_on(const std::string& proto, const std::string& ip, const std::string& port,
                   const std::string& target_ip, const std::string& target_port) {
    Listener l;
    l.udp = proto == "udp";
    if (!l.udp && proto != "tcp") throw husk::Error(fmt::format("invalid protocol {}", proto));
    Address at = address(ip, port);
    l.target = address(target_ip, target_port);
    std::string where = at.family() == AF_INET6 ? fmt::format("[{}]:{}/{}", ip, port, proto)
                                                : fmt::format("{}:{}/{}", ip, port, proto);
    l.fd.reset(::socket(at.family(), (l.udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0));
    if (!l.fd) husk::throw_sys("socket", where);
    int one = 1;
    ::setsockopt(l.fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (at.family() == AF_INET6)
        ::setsockopt(l.fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (::bind(l.fd.get(), at.get(), at.len) != 0) husk::throw_sys("bind", where);
    if (!l.udp && ::listen(l.fd.get(), 128) != 0) husk::throw_sys("listen", where);
    return l;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 9 || (argc - 4) % 5 != 0) {
        std::fputs(
            "usage: husk-proxy LOCK_FD READY_FD DIR (PROTO LISTEN_IP LISTEN_PORT TARGET_IP "
            "TARGET_PORT)...\n",
            stderr);
        return 2;
    }
    // argv[1], the daemon's lock fd, stays open as long as this process runs (daemon.h)
    int ready = std::atoi(argv[2]);
    std::string dir = argv[3];
    try {
        std::vector<Listener> listeners;
        for (int i = 4; i + 4 < argc; i += 5)
            listeners.push_back(
                listen_on(argv[i], argv[i + 1], argv[i + 2], argv[i + 3], argv[i + 4]));
        struct sigaction ign {};
        ign.sa_handler = SIG_IGN;
        ::sigaction(SIGCHLD, &ign, nullptr);  // the relaying children reaped by the kernel
        ::sigaction(SIGPIPE, &ign, nullptr);
        husk::network::daemon_ready(ready, dir);
        Proxy(std::move(listeners)).run();
    } catch (const std::exception& e) {
        husk::network::daemon_ready(ready, dir, e.what());
        return 1;
    }
}
