#include "network/dns/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <chrono>
#include <deque>
#include <sstream>

#include <fmt/format.h>

#include "network/dns/answer.h"
#include "network/dns/names.h"
#include "sys/error.h"
#include "sys/fileutil.h"

namespace husk::network::dns {

namespace {

constexpr size_t kMaxPending = 256;
constexpr size_t kMaxUdp = 4096;

using Clock = std::chrono::steady_clock;

struct Upstream {
    sockaddr_storage addr{};
    socklen_t len = 0;
};

struct Pending {
    sys::UniqueFd fd;  // connected to upstreams[next - 1]
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

std::vector<Upstream> parse_upstreams(const std::string& conf, const std::string& ours) {
    std::vector<Upstream> out;
    std::istringstream in(conf);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string key, ip;
        ls >> key >> ip;
        if (key != "nameserver" || ip == ours) continue;
        Upstream u;
        auto* v4 = reinterpret_cast<sockaddr_in*>(&u.addr);   // NOLINT
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&u.addr);  // NOLINT
        if (::inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
            v4->sin_family = AF_INET;
            v4->sin_port = htons(53);
            u.len = sizeof(sockaddr_in);
        } else if (::inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
            v6->sin6_family = AF_INET6;
            v6->sin6_port = htons(53);
            u.len = sizeof(sockaddr_in6);
        } else {
            continue;
        }
        out.push_back(u);
    }
    return out;
}

class Server {
  public:
    Server(int sock, const ServerConfig& cfg)
        : sock_(sock), cfg_(cfg), names_file_(cfg.names_path), resolv_file_(cfg.resolv_conf) {}

    [[noreturn]] void run() {
        for (;;) {
            std::vector<pollfd> fds;
            fds.push_back({sock_, POLLIN, 0});
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
                if (fds[i + 1].revents != 0)
                    relay(i);
                else if (pending_[i].deadline <= now)
                    retry(i);
            }
            if (fds[0].revents & POLLIN) receive();
        }
    }

  private:
    // A stat each (~1.7 us here): the names before every query, the resolvers before
    // every forwarded one.
    void refresh_names() {
        std::string text;
        if (names_file_.changed(text)) names_ = NameTable::parse(text);
    }
    void refresh_upstreams() {
        std::string text;
        if (cfg_.forward && resolv_file_.changed(text))
            upstreams_ = parse_upstreams(text, cfg_.address);
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
        refresh_names();
        char client[INET6_ADDRSTRLEN] = "";
        if (from.ss_family == AF_INET)
            ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&from)->sin_addr,  // NOLINT
                        client, sizeof client);
        Decision d = decide(buf, names_, client);
        if (d.kind == Decision::Kind::reply) send_to(d.packet, from, len);
        if (d.kind != Decision::Kind::forward) return;
        refresh_upstreams();
        if (pending_.size() >= kMaxPending) {
            send_to(servfail(buf), from, len);
            return;
        }
        Pending p;
        p.client = from;
        p.client_len = len;
        p.query = std::move(buf);
        if (ask_next(p)) pending_.push_back(std::move(p));
    }

    // Sends p's query to its next upstream; false (SERVFAIL sent) when none is left.
    bool ask_next(Pending& p) {
        while (p.next < upstreams_.size()) {
            const Upstream& u = upstreams_[p.next++];
            sys::UniqueFd fd(
                ::socket(u.addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
            if (!fd) continue;
            if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&u.addr), u.len) != 0 ||
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

    void retry(size_t i) {
        if (!ask_next(pending_[i]))
            pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
    }

    int sock_;
    ServerConfig cfg_;
    Watched names_file_, resolv_file_;
    NameTable names_;
    std::vector<Upstream> upstreams_;
    std::deque<Pending> pending_;
};

}  // namespace

sys::UniqueFd listen_udp(const std::string& address) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(53);
    if (::inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1)
        throw Error(fmt::format("DNS responder: {} is not an IPv4 address", address));
    sys::UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd) throw_sys("socket", "udp");
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0)  // NOLINT
        throw_sys("bind", fmt::format("{}:53", address));
    return fd;
}

void serve(int sock, const ServerConfig& cfg) {
    Server(sock, cfg).run();
}

}  // namespace husk::network::dns
