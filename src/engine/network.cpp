#include "engine/network.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <sstream>

#include <fmt/format.h>

#include "engine/record.h"
#include "engine/run.h"
#include "network/conflist.h"
#include "network/endpoint.h"
#include "network/hostports.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/log.h"

namespace husk::engine {

void loopback_up(pid_t pid) {
    std::string path = fmt::format("/proc/{}/ns/net", pid);
    sys::UniqueFd ns(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns) throw_sys("open", path);
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) throw_sys("pipe2");
    sys::UniqueFd rd(pipefd[0]), wr(pipefd[1]);
    pid_t child = ::fork();
    if (child < 0) throw_sys("fork");
    if (child == 0) {
        // Only async-signal-safe calls: report errno on the pipe and exit.
        int err = 0;
        if (::setns(ns.get(), CLONE_NEWNET) != 0) {
            err = errno;
        } else {
            int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            struct ifreq ifr {};
            std::memcpy(ifr.ifr_name, "lo", 3);
            if (s < 0 || ::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
                err = errno;
            } else {
                ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
                if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) err = errno;
            }
        }
        if (err != 0) (void)!::write(wr.get(), &err, sizeof err);
        ::_exit(err != 0 ? 1 : 0);
    }
    wr.reset();
    int err = 0;
    ssize_t n = ::read(rd.get(), &err, sizeof err);
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (n == static_cast<ssize_t>(sizeof err) && err != 0)
        throw SysError("bring up loopback in", path, err);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw Error(fmt::format("bring up loopback in {}: helper failed", path));
}

std::string hosts_file(const std::string& hostname, bool host_network) {
    if (host_network && sys::exists_follow("/etc/hosts")) return sys::read_file("/etc/hosts");
    (void)hostname;
    return "127.0.0.1\tlocalhost\n"
           "::1\tlocalhost ip6-localhost ip6-loopback\n"
           "fe00::0\tip6-localnet\n"
           "ff00::0\tip6-mcastprefix\n"
           "ff02::1\tip6-allnodes\n"
           "ff02::2\tip6-allrouters\n";
}

std::string with_dns(const std::string& conf, const std::vector<std::string>& servers,
                     const std::vector<std::string>& search,
                     const std::vector<std::string>& options) {
    std::stringstream in(conf);
    std::string line, out;
    while (std::getline(in, line)) {
        std::stringstream ls(line);
        std::string key;
        ls >> key;
        if ((key == "nameserver" && !servers.empty()) ||
            ((key == "search" || key == "domain") && !search.empty()) ||
            (key == "options" && !options.empty()))
            continue;
        out += line + "\n";
    }
    for (auto& s : servers) out += "nameserver " + s + "\n";
    if (!search.empty()) out += fmt::format("search {}\n", fmt::join(search, " "));
    if (!options.empty()) out += fmt::format("options {}\n", fmt::join(options, " "));
    return out;
}

std::string add_host_line(const std::string& spec) {
    size_t sep = spec.find_first_of(":=");
    std::string host = spec.substr(0, sep);
    std::string ip = sep == std::string::npos ? "" : spec.substr(sep + 1);
    if (ip == "host-gateway") ip = network::Network{}.gateway;
    unsigned char buf[16];
    if (host.empty() ||
        (::inet_pton(AF_INET, ip.c_str(), buf) != 1 && ::inet_pton(AF_INET6, ip.c_str(), buf) != 1))
        throw Error(
            fmt::format("invalid argument \"{}\" for \"--add-host\" flag: invalid IP "
                        "address in add-host: \"{}\"",
                        spec, ip));
    return fmt::format("{}\t{}\n", ip, host);
}

std::string resolv_conf(bool host_network) {
    std::string host;
    try {
        host = sys::read_file("/etc/resolv.conf");
    } catch (const std::exception&) {
    }
    if (host_network) return host;
    std::stringstream in(host);
    std::string line, out;
    while (std::getline(in, line)) {
        std::stringstream ls(line);
        std::string key, addr;
        ls >> key >> addr;
        if (key == "nameserver" && (addr.starts_with("127.") || addr == "::1")) continue;
        out += line + "\n";
    }
    return out;
}

namespace {

std::string endpoint_file(const EngineContext& ctx, const std::string& id) {
    return Containers(ctx.data_root).dir(id) + "/network.json";
}

// docker: "Bind for 0.0.0.0:8080 failed: port is already allocated".
void check_ports_free(const EngineContext& ctx, const std::string& id,
                      const std::vector<network::PortMapping>& ports) {
    auto taken = [](const network::PortMapping& p) {
        return Error(fmt::format("Bind for {}:{} failed: port is already allocated",
                                 p.host_ip.empty() ? "0.0.0.0" : p.host_ip, p.host_port));
    };
    for (size_t i = 0; i < ports.size(); ++i)
        for (size_t k = 0; k < i; ++k)
            if (network::collides(ports[i], ports[k])) throw taken(ports[i]);
    for (auto& other : Containers(ctx.data_root).list()) {
        if (other.id == id) continue;
        auto ep = container_endpoint(ctx, other.id);
        if (!ep) continue;
        for (auto& p : ports)
            for (auto& q : ep->ports)
                if (network::collides(p, q)) throw taken(p);
    }
}

}  // namespace

void connect_container(const EngineContext& ctx, const ContainerRecord& rec, pid_t pid) {
    std::vector<network::PortMapping> ports = rec.publish;
    std::string pins = ctx.state_root() + "/.netns";
    network::Network net;
    std::string file = endpoint_file(ctx, rec.id);
    {
        // Two runs publishing one port at once: the second waits, then finds it taken in
        // the first one's network.json, written before its (slow) ADD as a reservation,
        // which also gets a DEL should this process die before the ADD is done.
        sys::mkdir_all(pins, 0700);
        sys::UniqueFd lock(::open((pins + "/.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
        if (!lock) throw_sys("open", pins + "/.lock");
        while (::flock(lock.get(), LOCK_EX) != 0)
            if (errno != EINTR) throw_sys("flock", pins + "/.lock");
        network::resolve_host_ports(ports);
        check_ports_free(ctx, rec.id, ports);
        network::Endpoint reserved;
        reserved.container_id = rec.id;
        reserved.netns_pin = pins + "/" + rec.id;
        reserved.ports = ports;
        reserved.conflist = network::conflist(net);
        sys::write_file_atomic(file, network::to_json(reserved), 0600);
    }
    std::optional<network::Endpoint> ep;
    try {
        ep = network::connect(net, rec.id, pid, pins + "/" + rec.id, ports);
        sys::write_file_atomic(file, network::to_json(*ep), 0600);
        // in place: the file is bind-mounted into the container already
        std::string dir = Containers(ctx.data_root).dir(rec.id);
        std::string hostname = sys::read_file(dir + "/hostname");
        while (!hostname.empty() && hostname.back() == '\n') hostname.pop_back();
        // hosts.base: what write_bundle made (with --add-host lines), without an address
        std::string base = sys::exists_follow(dir + "/hosts.base")
                               ? sys::read_file(dir + "/hosts.base")
                               : hosts_file(hostname, false);
        sys::write_file(dir + "/hosts", base + fmt::format("{}\t{}\n", ep->address.ip, hostname));
    } catch (...) {
        if (ep) {
            try {
                network::disconnect(*ep);
            } catch (const std::exception& e) {
                log::warn("container {}: {}", rec.id, e.what());
            }
        }
        ::unlink(file.c_str());
        throw;
    }
}

void disconnect_container(const EngineContext& ctx, const std::string& id) {
    try {
        auto ep = container_endpoint(ctx, id);
        if (!ep) return;
        try {
            network::disconnect(*ep);
        } catch (const std::exception& e) {
            // network.json stays: `husk rm` tries again
            log::warn("container {}: {}", id, e.what());
            return;
        }
        ::unlink(endpoint_file(ctx, id).c_str());
    } catch (const std::exception& e) {
        log::warn("container {}: disconnecting from the network: {}", id, e.what());
    }
}

std::optional<network::Endpoint> container_endpoint(const EngineContext& ctx,
                                                    const std::string& id) {
    std::string file = endpoint_file(ctx, id);
    std::string text;
    try {
        text = sys::read_file(file);
    } catch (const Error& e) {
        if (e.code() == ENOENT) return std::nullopt;
        throw;
    }
    return network::endpoint_from_json(text);
}

}  // namespace husk::engine
