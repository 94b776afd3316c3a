#include "engine/network.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <sstream>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"

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
    if (host_network && sys::exists("/etc/hosts")) return sys::read_file("/etc/hosts");
    (void)hostname;
    return "127.0.0.1\tlocalhost\n"
           "::1\tlocalhost ip6-localhost ip6-loopback\n"
           "fe00::0\tip6-localnet\n"
           "ff00::0\tip6-mcastprefix\n"
           "ff02::1\tip6-allnodes\n"
           "ff02::2\tip6-allrouters\n";
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

}  // namespace husk::engine
