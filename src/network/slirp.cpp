#include "network/slirp.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "network/usernet.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/log.h"
#include "sys/spawn.h"
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
        } else if (name == "enable_ipv6") {
            o.enable_ipv6 = parse_bool(name, value);
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
        } else if (name == "cidr" || name == "outbound_addr" || name == "outbound_addr6") {
            throw Error(
                fmt::format("slirp4netns option {} is not supported by husk (allow_host_loopback, "
                            "enable_ipv6, mtu, port_handler=slirp4netns are)",
                            name));
        } else {
            throw Error(fmt::format(
                "unknown slirp4netns option \"{}\" (allow_host_loopback, enable_ipv6, mtu, "
                "port_handler)",
                opt));
        }
    }
    return o;
}

SlirpFeatures slirp_features_of(std::string_view help) {
    auto has = [help](std::string_view flag) { return help.find(flag) != std::string_view::npos; };
    return {has("--exit-fd"), has("--enable-sandbox"), has("--enable-seccomp"),
            has("--enable-ipv6")};
}

std::vector<std::string> slirp_args(const std::string& slirp, const SlirpLaunch& l,
                                    const SlirpOptions& o) {
    std::vector<std::string> args{slirp, "--configure", fmt::format("--mtu={}", o.mtu),
                                  fmt::format("--ready-fd={}", l.ready_fd),
                                  fmt::format("--api-socket={}", api_path(l.dir_fd))};
    if (l.exit_fd >= 0) args.push_back(fmt::format("--exit-fd={}", l.exit_fd));
    if (!o.allow_host_loopback) args.emplace_back("--disable-host-loopback");
    if (o.enable_ipv6) args.emplace_back("--enable-ipv6");
    if (l.sandbox) args.emplace_back("--enable-sandbox");
    if (l.seccomp) args.emplace_back("--enable-seccomp");
    if (l.userns_path) args.push_back(fmt::format("--userns-path={}/userns", l.dir));
    args.insert(args.end(), {"--netns-type=path", l.dir + "/netns", "tap0"});
    return args;
}

namespace {

// What identifies one version of the binary `slirp`, as its stat `st` says.
nlohmann::json binary_identity(const std::string& slirp, const struct stat& st) {
    return {{"path", slirp},
            {"dev", st.st_dev},
            {"ino", st.st_ino},
            {"size", st.st_size},
            {"mtime", {st.st_mtim.tv_sec, st.st_mtim.tv_nsec}}};
}

}  // namespace

std::optional<SlirpFeatures> read_slirp_features_cache(std::string_view cache,
                                                       const std::string& slirp,
                                                       const struct stat& st) {
    auto j = nlohmann::json::parse(cache, nullptr, false);
    if (j.is_discarded() || !j.is_object() ||
        j.value("binary", nlohmann::json()) != binary_identity(slirp, st))
        return std::nullopt;
    auto f = j.value("features", nlohmann::json());
    if (!f.is_object()) return std::nullopt;
    try {
        return SlirpFeatures{f.at("exit_fd").get<bool>(), f.at("sandbox").get<bool>(),
                             f.at("seccomp").get<bool>(), f.at("ipv6").get<bool>()};
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
}

std::string slirp_features_cache(const SlirpFeatures& f, const std::string& slirp,
                                 const struct stat& st) {
    return nlohmann::json{{"binary", binary_identity(slirp, st)},
                          {"features",
                           {{"exit_fd", f.exit_fd},
                            {"sandbox", f.sandbox},
                            {"seccomp", f.seccomp},
                            {"ipv6", f.ipv6}}}}
        .dump();
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

namespace {

// What the slirp4netns at `path` can do, read from its --help.
SlirpFeatures probe_features(const std::string& path) {
    std::vector<std::string> args{path, "--help"}, env;
    auto argv = sys::c_strings(args);
    auto envp = sys::c_strings(env);
    sys::UniqueFd out(::memfd_create("slirp4netns-help", MFD_CLOEXEC));
    if (!out) throw_sys("memfd_create for slirp4netns --help");
    sys::SpawnResult r = sys::spawn_and_wait(path.c_str(), argv.data(), envp.data(), 10, nullptr, 0,
                                             out.get(), out.get());
    if (!r.ok())
        throw Error(fmt::format("--network slirp4netns: {} --help: {}", path,
                                sys::describe_spawn_result(r)));
    if (::lseek(out.get(), 0, SEEK_SET) != 0) throw_sys("lseek", "slirp4netns --help");
    return slirp_features_of(sys::read_to_end(out.get(), path + " --help"));
}

// What the slirp4netns at `path` can do: once per process, and once per binary through
// `cache` (a file; "": none). The cache is only a shortcut: one that cannot be read or
// written is a probe.
const SlirpFeatures& features_of(const std::string& path, const std::string& cache) {
    static std::optional<std::pair<std::string, SlirpFeatures>> known;
    if (known && known->first == path) return known->second;
    struct stat st {};
    bool cacheable = !cache.empty() && ::stat(path.c_str(), &st) == 0;
    if (cacheable) {
        std::optional<std::string> text;
        try {
            text = sys::read_file_if_exists(cache);
        } catch (const Error& e) {
            log::debug("{}", e.what());
        }
        if (text)
            if (auto f = read_slirp_features_cache(*text, path, st)) {
                known.emplace(path, *f);
                return known->second;
            }
    }
    known.emplace(path, probe_features(path));
    if (cacheable) try {
            sys::replace_file_unflushed(cache, slirp_features_cache(known->second, path, st), 0600);
        } catch (const Error& e) {
            log::debug("{}", e.what());
        }
    return known->second;
}

// One start of slirp4netns in `dir` for the init `pid`, in its sandbox or not: the write
// end of its exit pipe once it has configured tap0.
sys::UniqueFd launch_slirp(const std::string& slirp, const std::string& dir, pid_t pid,
                           bool own_userns, bool sandbox, const SlirpFeatures& f,
                           const SlirpOptions& o) {
    sys::mkdir_all(dir, 0700);
    std::string userns = fmt::format("/proc/{}/ns/user", pid);
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
    if (::pipe2(fds, O_CLOEXEC) != 0) throw_sys("pipe2");
    sys::UniqueFd exit_rd(fds[0]), exit_wr(fds[1]);
    // its sandbox needs it root where it runs: inside the container's user namespace
    // (where the user is root), not joining it by --userns-path from the user's own
    sys::UniqueFd userns_fd;
    if (own_userns && sandbox) {
        userns_fd.reset(::open(userns.c_str(), O_RDONLY | O_CLOEXEC));
        if (!userns_fd) throw_sys("open", userns);
    }
    SlirpLaunch l{dir,
                  dir_fd.get(),
                  ready_wr.get(),
                  f.exit_fd ? exit_rd.get() : -1,
                  own_userns && !sandbox,
                  sandbox,
                  f.seccomp};
    UsernetHelper helper{"slirp4netns",
                         slirp_args(slirp, l, o),
                         {dir_fd.get(), ready_wr.get(), l.exit_fd},
                         [&ready_rd] {
                             // slirp4netns writes "1" once tap0 is configured
                             char c = 0;
                             return ::read(ready_rd.get(), &c, 1) == 1 && c == '1';
                         },
                         userns_fd.get(),
                         ready_rd.get()};
    start_helper(dir, pid, helper);
    return exit_wr;
}

}  // namespace

sys::UniqueFd start_slirp(const std::string& dir, pid_t pid, const std::vector<PortMapping>& ports,
                          const SlirpOptions& o, const std::string& features_cache) {
    std::string slirp = sys::find_on_path("slirp4netns");
    if (slirp.empty())
        throw Error(
            "--network slirp4netns: slirp4netns is not installed: install the slirp4netns "
            "package, or use the default network (pasta)");
    const SlirpFeatures& f = features_of(slirp, features_cache);
    if (o.enable_ipv6 && !f.ipv6)
        throw Error(fmt::format(
            "slirp4netns option enable_ipv6: {} has no --enable-ipv6 (upgrade slirp4netns)",
            slirp));
    // the init stays dumpable until its execve for this (runtime Plan::dumpable_until_exec)
    std::string userns = fmt::format("/proc/{}/ns/user", pid);
    struct stat ours {
    }, theirs{};
    if (::stat("/proc/self/ns/user", &ours) != 0) throw_sys("stat", "/proc/self/ns/user");
    if (::stat(userns.c_str(), &theirs) != 0) throw_sys("stat", userns);
    bool own_userns = ours.st_ino != theirs.st_ino || ours.st_dev != theirs.st_dev;
    // a failed start removes DIR: what the caller put there comes back for a second one
    auto endpoint = sys::read_file_if_exists(dir + "/endpoint.json");
    sys::UniqueFd exit_wr;
    try {
        exit_wr = launch_slirp(slirp, dir, pid, own_userns, f.sandbox, f, o);
    } catch (const Error& e) {
        if (!f.sandbox) throw;
        sys::mkdir_all(dir, 0700);
        if (endpoint) sys::write_file_atomic(dir + "/endpoint.json", *endpoint, 0600);
        exit_wr = launch_slirp(slirp, dir, pid, own_userns, false, f, o);
        log::warn("slirp4netns runs without its sandbox: with --enable-sandbox, {}", e.what());
    }
    try {
        slirp_publish(dir, ports);
    } catch (...) {
        stop_helper(dir);
        throw;
    }
    return exit_wr;
}

void slirp_publish(const std::string& dir, const std::vector<PortMapping>& ports) {
    if (ports.empty()) return;
    sys::UniqueFd dir_fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd) throw_sys("open", dir);
    for (auto& p : ports)
        api_call(
            dir_fd.get(), add_hostfwd_request(p),
            fmt::format("publish {} to port {}/{}", host_address(p), p.container_port, p.protocol));
}

void slirp_unpublish(const std::string& dir, const std::vector<PortMapping>& ports) {
    if (ports.empty()) return;
    sys::UniqueFd dir_fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd) throw_sys("open", dir);
    auto listed = api_call(dir_fd.get(), {{"execute", "list_hostfwd"}}, "list the published ports");
    for (auto& e : listed.value("entries", nlohmann::json::array()))
        for (auto& p : ports) {
            auto want = add_hostfwd_request(p)["arguments"];
            if (e.value("proto", "") != want["proto"] ||
                e.value("host_addr", "") != want["host_addr"] ||
                e.value("host_port", 0) != want["host_port"])
                continue;
            api_call(dir_fd.get(),
                     {{"execute", "remove_hostfwd"}, {"arguments", {{"id", e.value("id", 0)}}}},
                     fmt::format("unpublish {}", host_address(p)));
        }
}

}  // namespace husk::network
