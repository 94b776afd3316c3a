#include "network/slirp.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>

#include <fmt/format.h>

#include "network/usernet.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/syscalls.h"

namespace husk::network {

namespace {

bool parse_bool(std::string_view name, std::string_view v) {
    if (v == "true") return true;
    if (v == "false") return false;
    throw Error(fmt::format("slirp4netns option {}: expected true or false, got \"{}\"", name, v));
}

// The address of DIR/api.sock through the descriptor `dir_fd` of DIR.
std::string api_path(int dir_fd) {
    return fmt::format("/proc/self/fd/{}/api.sock", dir_fd);
}

// One request to slirp4netns's API (one connection each, as slirp4netns serves them):
// its "return" value; throws naming `what` with the API's own "desc" when it answers an
// error.
nlohmann::json api_call(int dir_fd, const nlohmann::json& request, const std::string& what) {
    std::string path = api_path(dir_fd);
    sys::UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s) throw_sys("socket for slirp4netns's API");
    // a slirp4netns that accepts and never answers (stopped, wedged) must not hold the
    // container's start for ever: its reads and writes fail after kHelperWithin
    timeval limit{static_cast<time_t>(kHelperWithin.count()), 0};
    if (::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) != 0 ||
        ::setsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) != 0)
        throw_sys("setsockopt SO_RCVTIMEO for slirp4netns's API");
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    while (::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        if (errno != EINTR) throw_sys("connect to slirp4netns's API", path);
    std::string text = request.dump();
    if (!sys::write_all(s.get(), text.data(), text.size()))
        throw_sys("write to slirp4netns's API", path);
    ::shutdown(s.get(), SHUT_WR);
    std::string answer;
    try {
        answer = sys::read_to_end(s.get(), path);
    } catch (const Error& e) {
        if (e.code() != EAGAIN) throw;
        throw Error(fmt::format("{}: slirp4netns's API gave no answer within {} s", what,
                                kHelperWithin.count()));
    }
    auto j = nlohmann::json::parse(answer, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw Error(fmt::format("{}: slirp4netns's API answered \"{}\"", what, answer));
    if (auto e = j.find("error"); e != j.end())
        throw Error(fmt::format("{}: slirp4netns: {}", what,
                                e->is_object() ? e->value("desc", e->dump()) : e->dump()));
    return j.value("return", nlohmann::json::object());
}

}  // namespace

SlirpOptions parse_slirp_options(std::string_view text) {
    SlirpOptions o;
    while (!text.empty()) {
        size_t comma = text.find(',');
        std::string_view opt = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        size_t eq = opt.find('=');
        std::string_view name = opt.substr(0, eq);
        std::string_view value = eq == std::string_view::npos ? "" : opt.substr(eq + 1);
        if (name == "allow_host_loopback") {
            o.allow_host_loopback = parse_bool(name, value);
        } else if (name == "mtu") {
            int mtu = 0;
            auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), mtu);
            if (ec != std::errc() || end != value.data() + value.size() || mtu < 68 || mtu > 65521)
                throw Error(fmt::format(
                    "slirp4netns option mtu: expected a number from 68 to 65521, got \"{}\"",
                    value));
            o.mtu = mtu;
        } else if (name == "port_handler") {
            if (value != "slirp4netns")
                throw Error(fmt::format(
                    "slirp4netns option port_handler={} is not supported: husk publishes ports "
                    "through slirp4netns's API only (port_handler=slirp4netns)",
                    value));
        } else if (name == "cidr" || name == "enable_ipv6" || name == "outbound_addr" ||
                   name == "outbound_addr6") {
            throw Error(fmt::format(
                "slirp4netns option {} is not supported by husk (allow_host_loopback, mtu, "
                "port_handler=slirp4netns are)",
                name));
        } else {
            throw Error(fmt::format(
                "unknown slirp4netns option \"{}\" (allow_host_loopback, mtu, port_handler)", opt));
        }
    }
    return o;
}

std::vector<std::string> slirp_args(const std::string& slirp, const std::string& dir, int dir_fd,
                                    int ready_fd, bool userns, const SlirpOptions& o) {
    std::vector<std::string> args{slirp, "--configure", fmt::format("--mtu={}", o.mtu),
                                  fmt::format("--ready-fd={}", ready_fd),
                                  fmt::format("--api-socket={}", api_path(dir_fd))};
    if (!o.allow_host_loopback) args.emplace_back("--disable-host-loopback");
    if (userns) args.push_back(fmt::format("--userns-path={}/userns", dir));
    args.insert(args.end(), {"--netns-type=path", dir + "/netns", "tap0"});
    return args;
}

nlohmann::json add_hostfwd_request(const PortMapping& p) {
    return {{"execute", "add_hostfwd"},
            {"arguments",
             {{"proto", p.protocol},
              {"host_addr", p.host_ip.empty() ? "0.0.0.0" : p.host_ip},
              {"host_port", p.host_port},
              {"guest_addr", kSlirpAddress},
              {"guest_port", p.container_port}}}};
}

void start_slirp(const std::string& dir, pid_t pid, const std::vector<PortMapping>& ports,
                 const SlirpOptions& o) {
    std::string slirp = sys::find_on_path("slirp4netns");
    if (slirp.empty())
        throw Error(
            "--network slirp4netns: slirp4netns is not installed: install the slirp4netns "
            "package, or use the default network (pasta)");
    sys::mkdir_all(dir, 0700);
    // the init stays dumpable until its execve for this (runtime Plan::dumpable_until_exec)
    std::string userns = fmt::format("/proc/{}/ns/user", pid);
    struct stat ours {
    }, theirs{};
    if (::stat("/proc/self/ns/user", &ours) != 0) throw_sys("stat", "/proc/self/ns/user");
    if (::stat(userns.c_str(), &theirs) != 0) throw_sys("stat", userns);
    bool own_userns = ours.st_ino != theirs.st_ino || ours.st_dev != theirs.st_dev;
    for (auto [link, target] : {std::pair{dir + "/netns", fmt::format("/proc/{}/ns/net", pid)},
                                std::pair{dir + "/userns", userns}}) {
        ::unlink(link.c_str());  // a previous start's
        if (::symlink(target.c_str(), link.c_str()) != 0) throw_sys("symlink", link);
    }
    sys::UniqueFd dir_fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd) throw_sys("open", dir);
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) throw_sys("pipe2");
    sys::UniqueFd ready_rd(fds[0]), ready_wr(fds[1]);
    UsernetHelper helper{"slirp4netns",
                         slirp_args(slirp, dir, dir_fd.get(), ready_wr.get(), own_userns, o),
                         {dir_fd.get(), ready_wr.get()},
                         [&ready_rd] {
                             // slirp4netns writes "1" once tap0 is configured
                             char c = 0;
                             return ::read(ready_rd.get(), &c, 1) == 1 && c == '1';
                         }};
    start_helper(dir, pid, helper);
    ready_wr.reset();
    try {
        for (auto& p : ports)
            api_call(dir_fd.get(), add_hostfwd_request(p),
                     fmt::format("publish {} to port {}/{}", host_address(p), p.container_port,
                                 p.protocol));
    } catch (...) {
        stop_helper(dir);
        throw;
    }
}

}  // namespace husk::network
