#include "network/dns/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <sstream>

#include <fmt/format.h>

#include "network/dns/answer.h"
#include "network/dns/names.h"
#include "network/subnet.h"
#include "sys/error.h"
#include "sys/fileutil.h"

namespace husk::network::dns {

namespace {

constexpr size_t kMaxPending = 256;
constexpr size_t kMaxUdp = 4096;

using Clock = std::chrono::steady_clock;

using Upstream = SocketAddress;

struct Pending {
    sys::UniqueFd fd;  // connected to upstreams[next - 1]
    std::vector<Upstream> upstreams;
    sockaddr_storage client{};
    socklen_t client_len = 0;
    Packet query;
    size_t next = 0;  // the upstream to try after this one
    Clock::time_point deadline;
};

// A file re-read when its (inode, size, mtime) changes.
class Watched {
  public:
    explicit Watched(std::string path) : path_(std::move(path)) {}
    // True when the file changed since the last call (or vanished: text "").
    bool changed(std::string& text) {
        struct stat st {};
        bool exists = ::stat(path_.c_str(), &st) == 0;
        Key k{exists ? st.st_ino : 0, exists ? st.st_size : -1, exists ? st.st_mtim.tv_sec : 0,
              exists ? st.st_mtim.tv_nsec : 0};
        if (seen_ && k == key_) return false;
        seen_ = true;
        key_ = k;
        text = exists ? sys::read_file_if_exists(path_).value_or("") : "";
        return true;
    }

  private:
    struct Key {
        ino_t ino;
        off_t size;
        time_t sec;
        long nsec;
        bool operator==(const Key&) const = default;
    };
    std::string path_;
    bool seen_ = false;
    Key key_{};
};

// Port 53 of each address of `ips` but ours (the gateway: never asked, it is us).
std::vector<Upstream> upstreams_of(const std::vector<std::string>& ips, const std::string& ours) {
    std::vector<Upstream> out;
    for (auto& ip : ips) {
        if (ip == ours) continue;
        if (auto a = try_parse_ip(ip)) out.push_back(socket_address(*a, 53));
    }
    return out;
}

// 127.0.0.0/8 or ::1.
bool is_loopback(const std::string& ip) {
    auto a = try_parse_ip(ip);
    return a && (a->family == 4 ? contains(parse_cidr("127.0.0.0/8"), *a) : *a == parse_ip("::1"));
}

// The nameservers of resolv.conf text, those on the loopback replaced by `loopback_via`
// (once) when it is given.
std::vector<std::string> nameservers(const std::string& conf, const std::string& loopback_via) {
    std::vector<std::string> out;
    std::istringstream in(conf);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string key, ip;
        ls >> key >> ip;
        if (key != "nameserver") continue;
        if (!loopback_via.empty() && is_loopback(ip)) ip = loopback_via;
        if (std::find(out.begin(), out.end(), ip) == out.end()) out.push_back(ip);
    }
    return out;
}

bool io_full(int fd, uint8_t* p, size_t n, bool write) {
    while (n > 0) {
        ssize_t k = write ? ::write(fd, p, n) : ::read(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return false;
        p += k;
        n -= static_cast<size_t>(k);
    }
    return true;
}

// One DNS message over TCP: its 2-byte length, then it.
bool read_msg(int fd, Packet& out) {
    uint8_t len[2];
    if (!io_full(fd, len, 2, false)) return false;
    out.resize((static_cast<size_t>(len[0]) << 8) | len[1]);
    return !out.empty() && io_full(fd, out.data(), out.size(), false);
}

bool write_msg(int fd, Packet msg) {
    if (msg.empty() || msg.size() > 0xffff) return false;
    msg.insert(msg.begin(),
               {static_cast<uint8_t>(msg.size() >> 8), static_cast<uint8_t>(msg.size())});
    return io_full(fd, msg.data(), msg.size(), true);
}

void set_timeouts(int fd, int ms) {
    timeval tv{ms / 1000, static_cast<suseconds_t>(ms % 1000) * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);  // connect's too
}

class Server {
  public:
    Server(int sock, int tcp, const ServerConfig& cfg)
        : sock_(sock),
          tcp_(tcp),
          cfg_(cfg),
          names_file_(cfg.names_path),
          resolv_file_(cfg.resolv_conf) {}

    [[noreturn]] void run() {
        for (;;) {
            std::vector<pollfd> fds;
            fds.push_back({sock_, POLLIN, 0});
            fds.push_back({tcp_, POLLIN, 0});
            for (auto& p : pending_) fds.push_back({p.fd.get(), POLLIN, 0});
            int timeout = -1;
            auto now = Clock::now();
            for (auto& p : pending_) {
                auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(p.deadline - now);
                int left = static_cast<int>(std::max<int64_t>(0, ms.count() + 1));
                if (timeout < 0 || left < timeout) timeout = left;
            }
            int n = ::poll(fds.data(), fds.size(), timeout);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw_sys("poll");
            }
            // replies first (their indexes shift once a query is added)
            now = Clock::now();
            for (size_t i = pending_.size(); i-- > 0;) {
                if (fds[i + 2].revents != 0)
                    relay(i);
                else if (pending_[i].deadline <= now)
                    retry(i);
            }
            if (fds[0].revents & POLLIN) receive();
            if (fds[1].revents & POLLIN) accept_tcp();
        }
    }

  private:
    // A stat each (~1.7 us here): the names before every query, the resolvers before
    // every forwarded one.
    void refresh_names() {
        std::string text;
        if (names_file_.changed(text)) names_ = NameTable::parse(text);
    }
    // Where `client`'s other names go: its own servers (--dns), the network's, else the
    // host's resolvers. None on an --internal network.
    std::vector<Upstream> upstreams_for(const std::string& client) {
        if (!cfg_.forward) return {};
        auto own = names_.upstreams(client);
        if (!own.empty()) return upstreams_of(own, cfg_.address);
        std::string text;
        if (resolv_file_.changed(text))
            host_upstreams_ = upstreams_of(nameservers(text, cfg_.loopback_via), cfg_.address);
        return host_upstreams_;
    }

    void send_to(const Packet& p, const sockaddr_storage& to, socklen_t len) {
        if (p.empty()) return;
        (void)::sendto(sock_, p.data(), p.size(), MSG_DONTWAIT,
                       reinterpret_cast<const sockaddr*>(&to), len);  // NOLINT
    }

    void receive() {
        Packet buf(kMaxUdp);
        sockaddr_storage from{};
        socklen_t len = sizeof from;
        ssize_t n = ::recvfrom(sock_, buf.data(), buf.size(), MSG_DONTWAIT,
                               reinterpret_cast<sockaddr*>(&from), &len);  // NOLINT
        if (n <= 0) return;
        buf.resize(static_cast<size_t>(n));
        std::string client = client_text(from);
        if (!ours(client)) return;
        refresh_names();
        Decision d = decide(buf, names_, client);
        if (d.kind == Decision::Kind::reply) send_to(d.packet, from, len);
        if (d.kind != Decision::Kind::forward) return;
        if (pending_.size() >= kMaxPending) {
            send_to(servfail(buf), from, len);
            return;
        }
        Pending p;
        p.upstreams = upstreams_for(client);
        p.client = from;
        p.client_len = len;
        p.query = std::move(buf);
        if (ask_next(p)) pending_.push_back(std::move(p));
    }

    // Sends p's query to its next upstream; false (SERVFAIL sent) when none is left.
    bool ask_next(Pending& p) {
        while (p.next < p.upstreams.size()) {
            const Upstream& u = p.upstreams[p.next++];
            sys::UniqueFd fd(::socket(u.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
            if (!fd) continue;
            if (::connect(fd.get(), u.get(), u.len) != 0 ||
                ::send(fd.get(), p.query.data(), p.query.size(), 0) < 0)
                continue;
            p.fd = std::move(fd);
            p.deadline = Clock::now() + std::chrono::milliseconds(cfg_.upstream_timeout_ms);
            return true;
        }
        send_to(servfail(p.query), p.client, p.client_len);
        return false;
    }

    void relay(size_t i) {
        Pending& p = pending_[i];
        Packet buf(kMaxUdp);
        ssize_t n = ::recv(p.fd.get(), buf.data(), buf.size(), MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        // the reply of the query asked (same id), else this upstream failed: the next one
        if (n >= 2 && buf[0] == p.query[0] && buf[1] == p.query[1]) {
            buf.resize(static_cast<size_t>(n));
            send_to(buf, p.client, p.client_len);
        } else if (ask_next(p)) {
            return;
        }
        pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
    }

    // A TCP client (one retrying a truncated answer): served by a child of ours, which
    // may block on an upstream without holding up the UDP answers. The child keeps
    // nothing of ours (not the lock: a responder's end must release it) and dies with us.
    void accept_tcp() {
        sockaddr_storage from{};
        socklen_t len = sizeof from;
        sys::UniqueFd conn(::accept4(tcp_, reinterpret_cast<sockaddr*>(&from), &len,  // NOLINT
                                     SOCK_CLOEXEC));
        if (!conn) return;
        std::string client = client_text(from);
        if (!ours(client)) return;
        refresh_names();
        std::vector<Upstream> upstreams = upstreams_for(client);
        pid_t parent = ::getpid();
        if (::fork() != 0) return;
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(0);  // the responder died before the line above
        if (cfg_.lock_fd >= 0) ::close(cfg_.lock_fd);
        ::close(sock_);
        ::close(tcp_);
        pending_.clear();
        set_timeouts(conn.get(), cfg_.upstream_timeout_ms * 2);
        Packet q;
        while (read_msg(conn.get(), q)) {
            Decision d = decide(q, names_, client);
            if (d.kind == Decision::Kind::drop) break;
            Packet r =
                d.kind == Decision::Kind::reply ? std::move(d.packet) : forward_tcp(q, upstreams);
            if (!write_msg(conn.get(), std::move(r))) break;
        }
        ::_exit(0);
    }

    Packet forward_tcp(const Packet& q, const std::vector<Upstream>& upstreams) const {
        for (auto& u : upstreams) {
            sys::UniqueFd fd(::socket(u.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
            if (!fd) continue;
            set_timeouts(fd.get(), cfg_.upstream_timeout_ms);
            Packet r;
            if (::connect(fd.get(), u.get(), u.len) == 0 && write_msg(fd.get(), q) &&
                read_msg(fd.get(), r) && r.size() >= 2 && r[0] == q[0] && r[1] == q[1])
                return r;
        }
        return servfail(q);
    }

    // A container of the network (or the host, from the gateway): the only clients.
    bool ours(const std::string& client) const {
        if (client.empty()) return false;
        try {
            return contains(cfg_.subnet, parse_ip(client));
        } catch (const std::exception&) {
            return false;
        }
    }

    static std::string client_text(const sockaddr_storage& from) {
        char client[INET6_ADDRSTRLEN] = "";
        if (from.ss_family == AF_INET)
            ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&from)->sin_addr,  // NOLINT
                        client, sizeof client);
        return client;
    }

    void retry(size_t i) {
        if (!ask_next(pending_[i]))
            pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
    }

    int sock_, tcp_;
    ServerConfig cfg_;
    Watched names_file_, resolv_file_;
    NameTable names_;
    std::vector<Upstream> host_upstreams_;
    std::deque<Pending> pending_;
};

}  // namespace

namespace {

sys::UniqueFd listen_on(const std::string& address, int type) {
    auto ip = try_parse_ip(address);
    if (!ip || ip->family != 4)
        throw Error(fmt::format("DNS responder: {} is not an IPv4 address", address));
    SocketAddress sa = socket_address(*ip, 53);
    const char* proto = type == SOCK_DGRAM ? "udp" : "tcp";
    sys::UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
    if (!fd) throw_sys("socket", proto);
    int one = 1;
    // TCP: a port left in TIME_WAIT by a killed responder is ours again at once
    if (type == SOCK_STREAM) ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd.get(), sa.get(), sa.len) != 0)
        throw_sys("bind", fmt::format("{}:53/{}", address, proto));
    if (type == SOCK_STREAM && ::listen(fd.get(), 64) != 0)
        throw_sys("listen", fmt::format("{}:53/tcp", address));
    return fd;
}

}  // namespace

sys::UniqueFd listen_udp(const std::string& address) {
    return listen_on(address, SOCK_DGRAM);
}

sys::UniqueFd listen_tcp(const std::string& address) {
    return listen_on(address, SOCK_STREAM);
}

void serve(int udp, int tcp, const ServerConfig& cfg) {
    // the TCP children are reaped by the kernel
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGCHLD, &ign, nullptr);
    Server(udp, tcp, cfg).run();
}

}  // namespace husk::network::dns
