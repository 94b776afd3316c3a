#include "engine/rootless_netns.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <sstream>

#include <fmt/format.h>

#include "engine/network.h"
#include "engine/run.h"
#include "network/daemon.h"
#include "network/slirp.h"
#include "network/statepath.h"
#include "network/usernet.h"
#include "runtime/namespaces.h"
#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/log.h"
#include "sys/loopback.h"
#include "sys/proc.h"
#include "sys/spawn.h"
#include "sys/syscalls.h"
#include "sys/unix_socket.h"
#include "sys/user_dirs.h"

namespace husk::engine {

namespace {

std::string holder_dir(const EngineContext& ctx) {
    return ctx.state_root() + "/.netns-holder";
}

std::string slirp_dir(const EngineContext& ctx) {
    return holder_dir(ctx) + "/slirp4netns";
}

sys::FileLock lock_holder(const EngineContext& ctx) {
    std::string dir = holder_dir(ctx);
    sys::mkdir_all(dir, 0700);
    return sys::FileLock(dir + "/lock", sys::FileLock::exclusive);
}

struct HolderPid {
    pid_t pid = 0;
    uint64_t start = 0;
};

HolderPid read_pid(const EngineContext& ctx) {
    HolderPid h;
    std::istringstream(sys::read_file_if_exists(holder_dir(ctx) + "/pid").value_or("")) >> h.pid >>
        h.start;
    return h;
}

bool alive(const HolderPid& h) {
    return h.pid > 0 && sys::process_alive(h.pid, h.start);
}

// One byte `c` on `sock` (a holder that cannot write it is gone, which the reader sees).
void send_byte(int sock, char c) noexcept {
    (void)sys::write_all(sock, &c, 1);
}

// The holder: a user namespace (its maps written by the parent meanwhile), then a
// network and a mount namespace of its own with loopback up; it reports each step on
// `sock` ('u' with its pid, then 'r', or 'E' and the errno), takes slirp4netns's exit
// pipe from it and waits for ever. Double-forked: it belongs to no command of ours.
[[noreturn]] void holder_main(int sock) noexcept {
    sys::close_fds_except(3, {sock});
    // nothing of the command's: its output ends when the command does
    int null = ::open("/dev/null", O_RDWR);
    for (int fd = 0; fd <= 2 && null >= 0; ++fd) ::dup2(null, fd);
    if (null > 2) ::close(null);
    ::setsid();
    ::prctl(PR_SET_NAME, "husk-netns", 0, 0, 0);  // what ps shows
    ::signal(SIGPIPE, SIG_IGN);
    auto fail = [sock] {
        int err = errno;
        std::array<char, 1 + sizeof err> msg{'E'};
        std::memcpy(msg.data() + 1, &err, sizeof err);
        (void)sys::write_all(sock, msg.data(), msg.size());
        ::_exit(1);
    };
    if (::unshare(CLONE_NEWUSER) != 0) fail();
    pid_t self = ::getpid();
    std::array<char, 1 + sizeof self> hello{'u'};
    std::memcpy(hello.data() + 1, &self, sizeof self);
    if (!sys::write_all(sock, hello.data(), hello.size())) ::_exit(1);
    char go = 0;
    if (::read(sock, &go, 1) != 1 || go != 'g') ::_exit(1);
    if (::unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) fail();
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) fail();
    if (int err = sys::bring_up_loopback(); err != 0) {
        errno = err;
        fail();
    }
    send_byte(sock, 'r');
    int exit_fd = -1;
    try {
        exit_fd = sys::recv_fd(sock);
    } catch (...) {
        ::_exit(1);
    }
    ::close(sock);
    (void)exit_fd;  // held for ever: slirp4netns ends with us
    for (;;) ::pause();
}

// A holder's answer: 'E' and the errno of its failed step as an Error.
[[noreturn]] void holder_failed(int sock, char first) {
    int err = 0;
    if (first == 'E' && sys::read_all(sock, &err, sizeof err))
        throw SysError("make the user's network namespace (its holder process)", "", err);
    throw Error("make the user's network namespace: its holder process died");
}

void kill_holder(const HolderPid& h) {
    sys::UniqueFd pidfd(h.pid > 0 ? sys::pidfd_open(h.pid) : -1);
    if (!pidfd || !sys::process_alive(h.pid, h.start)) return;
    sys::kill_and_wait(pidfd.get(), h.pid, "the holder of the user's network namespace");
}

// What a holder left: slirp4netns, the DNS responders and proxies (their processes keep
// its network namespace), leases and rule markers; the subnet reservations stay (the
// networks do). Called under the holder's lock.
void remove_holder_state(const EngineContext& ctx, const HolderPid& h) {
    // a user's only: root's state paths are the host's own
    if (!sys::rootless()) throw Error("the holder of a network namespace is a user's");
    kill_holder(h);
    network::stop_helper(slirp_dir(ctx));
    for (const char* helpers : {"/run/husk-dns", "/run/husk-proxy"}) {
        std::string dir = network::state_path(helpers);
        if (!sys::exists_follow(dir)) continue;
        for (auto& d : sys::list_dir(dir)) {
            try {
                network::stop_daemon(fmt::format("{}/{}", dir, d));
            } catch (const std::exception& e) {
                log::warn("{}", e.what());
            }
        }
    }
    sys::remove_all(network::state_path("/run"));
    sys::remove_all(network::state_path("/var/lib/cni/networks"));
    // "maps": an older husk's record of the holder's maps (now read from /proc)
    for (const char* f : {"/pid", "/userns", "/maps"}) ::unlink((holder_dir(ctx) + f).c_str());
}

// The numbers of an id map's text ("0 1000 1\n1 100000 65536\n", or the kernel's padded
// columns in /proc/PID/uid_map).
std::vector<uint64_t> map_numbers(const std::string& text) {
    std::vector<uint64_t> out;
    std::istringstream in(text);
    for (uint64_t v = 0; in >> v;) out.push_back(v);
    return out;
}

// Does the running holder's user namespace have the maps `uids` and `gids`?
bool holder_has_maps(pid_t pid, const std::vector<oci::IdMapping>& uids,
                     const std::vector<oci::IdMapping>& gids) {
    for (const auto& [file, maps] : {std::pair{"uid_map", &uids}, std::pair{"gid_map", &gids}}) {
        auto now = sys::read_file_if_exists(fmt::format("/proc/{}/{}", pid, file));
        if (now && map_numbers(*now) != map_numbers(runtime::format_id_map(*maps, file)))
            return false;
    }
    return true;
}

pid_t start_holder(const EngineContext& ctx, const std::vector<oci::IdMapping>& uids,
                   const std::vector<oci::IdMapping>& gids) {
    std::array<int, 2> sp{};
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp.data()) != 0)
        throw_sys("socketpair");
    sys::UniqueFd ours(sp[0]), theirs(sp[1]);
    pid_t mid = ::fork();
    if (mid < 0) throw_sys("fork (the holder of the user's network namespace)");
    if (mid == 0) {
        pid_t holder = ::fork();
        if (holder == 0) holder_main(theirs.get());
        ::_exit(holder < 0 ? 1 : 0);
    }
    {
        sys::ChildGuard guard(mid);
        (void)guard.wait("the holder's parent");
    }
    theirs.reset();
    char first = 0;
    pid_t pid = 0;
    if (!sys::read_all(ours.get(), &first, 1) || first != 'u') holder_failed(ours.get(), first);
    if (!sys::read_all(ours.get(), &pid, sizeof pid)) holder_failed(ours.get(), 0);
    auto st = sys::proc_stat(pid);
    HolderPid h{pid, st ? st->start_time : 0};
    std::string dir = holder_dir(ctx);
    try {
        // first: a husk killed from here on leaves what the next one stops
        sys::write_file_atomic(dir + "/pid", fmt::format("{} {}\n", h.pid, h.start), 0600);
        // what containers join: final from here on (a husk killed before the holder has
        // slirp4netns' exit pipe leaves a holder that ends by itself, its socket closed)
        std::string link = dir + "/userns.new";
        ::unlink(link.c_str());
        if (::symlink(fmt::format("/proc/{}/ns/user", pid).c_str(), link.c_str()) != 0)
            throw_sys("symlink", link);
        if (::rename(link.c_str(), (dir + "/userns").c_str()) != 0) throw_sys("rename", link);
        runtime::write_id_maps(pid, uids, gids);
        send_byte(ours.get(), 'g');
        if (!sys::read_all(ours.get(), &first, 1) || first != 'r') holder_failed(ours.get(), first);
        network::SlirpOptions o;
        o.allow_host_loopback = true;  // as the default network (pasta's) reaches the host
        sys::UniqueFd exit_wr =
            network::start_slirp(slirp_dir(ctx), pid, {}, o, slirp_features_file(ctx));
        if (sys::send_fd(ours.get(), exit_wr.get(), "x", 1) != 0)
            throw Error("hand slirp4netns's exit pipe to the holder of the user's network");
    } catch (...) {
        remove_holder_state(ctx, h);
        throw;
    }
    return pid;
}

}  // namespace

std::string user_netns_userns(const EngineContext& ctx) {
    return holder_dir(ctx) + "/userns";
}

std::optional<NetnsHolder> user_netns_holder(const EngineContext& ctx) {
    HolderPid h = read_pid(ctx);
    if (h.pid <= 0) return std::nullopt;
    sys::UniqueFd fd(sys::pidfd_open(h.pid));
    // checked after the pidfd is open: then the pidfd is the holder's
    if (!fd || !alive(h)) return std::nullopt;
    return NetnsHolder{h.pid, std::move(fd)};
}

pid_t ensure_user_netns(const EngineContext& ctx, const std::vector<oci::IdMapping>& uids,
                        const std::vector<oci::IdMapping>& gids) {
    auto lock = lock_holder(ctx);
    HolderPid h = read_pid(ctx);
    if (alive(h)) {
        // a container with other maps (the user's /etc/subuid range moved since) would see
        // its files as nobody's in the holder's namespace
        if (!holder_has_maps(h.pid, uids, gids))
            throw Error(fmt::format("the holder of your networks' namespace (pid {}) has other "
                                    "id maps than this container (your /etc/subuid or "
                                    "/etc/subgid range changed): stop the containers on your "
                                    "networks first",
                                    h.pid),
                        EBUSY);
        return h.pid;
    }
    if (h.pid > 0)
        fmt::print(stderr,
                   "husk: the holder of your networks' namespace (pid {}) is gone: starting a new "
                   "one (containers still running on your networks, if any, lost their network)\n",
                   h.pid);
    remove_holder_state(ctx, h);
    sys::mkdir_all(network::state_path("/run"), 0700);
    return start_holder(ctx, uids, gids);
}

void stop_user_netns(const EngineContext& ctx, const std::function<bool()>& still_needed) {
    if (!sys::exists_follow(holder_dir(ctx))) return;
    auto lock = lock_holder(ctx);
    if (still_needed()) return;
    remove_holder_state(ctx, read_pid(ctx));
}

void in_user_netns(const NetnsHolder& holder, const std::function<void()>& fn) {
    std::array<int, 2> op{};
    if (::pipe2(op.data(), O_CLOEXEC) != 0) throw_sys("pipe2");
    sys::UniqueFd out_r(op[0]), out_w(op[1]);
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) throw_sys("fork (a child in the user's network namespace)");
    if (pid == 0) {
        out_r.reset();
        // it dies with us: a killed command's connect is undone by `rm` from its records
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(1);
        std::string answer = "O";
        try {
            // all three at once through the pidfd (Linux >= 5.8): the holder's, or none
            if (::setns(holder.pidfd.get(), CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS) != 0)
                throw_sys("enter the user's network namespace: setns",
                          fmt::format("the holder's pidfd (pid {})", holder.pid));
            fn();
        } catch (const std::exception& e) {
            answer = std::string("E") + e.what();
        }
        (void)sys::write_all(out_w.get(), answer.data(), answer.size());
        ::_exit(answer[0] == 'O' ? 0 : 1);
    }
    sys::ChildGuard child(pid);
    out_w.reset();
    std::string got = sys::read_to_end(out_r.get(), "the answer from the user's network namespace");
    int status = child.wait("a child in the user's network namespace");
    if (!got.empty() && got[0] == 'E') throw Error(got.substr(1));
    if (got != "O" || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw Error("a child in the user's network namespace died");
}

namespace {

// The same port in the holder's namespace: its DNAT rules match the host port.
std::vector<network::PortMapping> to_holder(std::vector<network::PortMapping> ports) {
    for (auto& p : ports) p.container_port = p.host_port;
    return ports;
}

}  // namespace

void publish_user_netns(const EngineContext& ctx, const std::vector<network::PortMapping>& ports) {
    network::slirp_publish(slirp_dir(ctx), to_holder(ports));
}

void unpublish_user_netns(const EngineContext& ctx,
                          const std::vector<network::PortMapping>& ports) {
    try {
        if (!ports.empty() && user_netns_holder(ctx))
            network::slirp_unpublish(slirp_dir(ctx), to_holder(ports));
    } catch (const std::exception& e) {
        log::warn("unpublish ports: {}", e.what());
    }
}

}  // namespace husk::engine
