#include "network/usernet.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/log.h"
#include "sys/proc.h"
#include "sys/spawn.h"
#include "sys/syscalls.h"

namespace husk::network {

namespace {

// The pid in DIR/pid, when /proc says it is still the helper of DIR (one of its arguments
// names a file in DIR): a pid reused since is never killed.
pid_t running_helper(const std::string& dir) {
    pid_t pid = 0;
    try {
        pid = static_cast<pid_t>(std::stol(sys::read_file_if_exists(dir + "/pid").value_or("0")));
    } catch (const std::exception&) {
        return 0;  // killed before it wrote its pid: it never ran the helper
    }
    if (pid <= 0) return 0;
    auto cmdline = sys::read_file_if_exists(fmt::format("/proc/{}/cmdline", pid));
    if (!cmdline) return 0;
    return cmdline->find(std::string(1, '\0') + dir + "/") != std::string::npos ? pid : 0;
}

// The helpers this thread killed while a DeferredHelperEnds lives: the outermost one's list.
thread_local std::vector<DeferredHelperEnds::Killed>* deferred = nullptr;

// SIGKILL to `pid` and its end awaited (reaped when it is our child), or left to the
// DeferredHelperEnds of the moment.
void kill_and_wait(pid_t pid, const std::string& dir) {
    sys::UniqueFd pidfd(sys::pidfd_open(pid));
    if (!pidfd) {
        if (errno == ESRCH) return;
        throw_sys("pidfd_open the network helper of", dir);
    }
    if (deferred != nullptr) {
        if (sys::pidfd_send_signal(pidfd.get(), SIGKILL) != 0 && errno != ESRCH)
            throw_sys("kill the network helper of", dir);
        deferred->push_back({std::move(pidfd), pid, dir});
        return;
    }
    sys::kill_and_wait(pidfd.get(), pid, "the network helper of " + dir);
}

}  // namespace

DeferredHelperEnds::DeferredHelperEnds() {
    if (deferred == nullptr) deferred = &killed_;
}

DeferredHelperEnds::~DeferredHelperEnds() {
    if (deferred == &killed_) deferred = nullptr;
    for (auto& k : killed_) try {
            sys::kill_and_wait(k.pidfd.get(), k.pid, "the network helper of " + k.dir);
        } catch (const std::exception& e) {
            log::warn("{}", e.what());
        }
}

std::string helper_last_words(const std::string& dir) {
    std::istringstream log(sys::read_file_if_exists(dir + "/log").value_or(""));
    std::string said;
    for (std::string line; std::getline(log, line);)
        if (!line.empty() && !line.starts_with("Failed to send")) said = line;
    return said;
}

pid_t start_helper(const std::string& dir, pid_t init, const UsernetHelper& helper) {
    sys::mkdir_all(dir, 0700);
    std::vector<std::string> args = helper.args;
    std::vector<char*> argv = sys::c_strings(args);
    std::string pid_path = dir + "/pid", log_path = dir + "/log";
    sys::UniqueFd pid_fd(::open(pid_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!pid_fd) throw_sys("open", pid_path);
    sys::UniqueFd log_fd(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!log_fd) throw_sys("open", log_path);
    sys::UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!null) throw_sys("open", "/dev/null");
    std::fflush(nullptr);
    pid_t child = ::fork();
    if (child < 0) throw_sys("fork");
    if (child == 0) {
        // Only async-signal-safe calls. A session of its own: a terminal's ^C to the
        // container's command is not for it; it ends with the container (stop_helper).
        ::setsid();
        char digits[24];
        auto [end, ec] = std::to_chars(digits, digits + sizeof digits, ::getpid());
        if (ec == std::errc())
            sys::write_all(pid_fd.get(), digits, static_cast<size_t>(end - digits));
        if (helper.userns_fd >= 0 && ::setns(helper.userns_fd, CLONE_NEWUSER) != 0) {
            static const char msg[] = "husk: setns into the container's user namespace failed\n";
            sys::write_all(log_fd.get(), msg, sizeof msg - 1);
            ::_exit(126);
        }
        sys::exec_detached(argv.data(), null.get(), log_fd.get(),
                           {helper.keep[0], helper.keep[1], helper.keep[2]});
    }
    pid_fd.reset();
    log_fd.reset();
    auto fail = [&](const std::string& why) {
        std::string said = helper_last_words(dir);
        try {
            kill_and_wait(child, dir);
        } catch (const std::exception& e) {
            log::warn("{}", e.what());
        }
        sys::remove_all(dir);
        throw Error(fmt::format("user-mode network: {} for the container's init {}: {}",
                                helper.name, init, said.empty() ? why : said));
    };
    // with a ready descriptor: woken by it or by the helper's end (its pidfd), not a sleep
    sys::UniqueFd child_fd;
    if (helper.ready_fd >= 0) {
        child_fd.reset(sys::pidfd_open(child));
        if (!child_fd) fail(fmt::format("pidfd_open {}: {}", child, std::strerror(errno)));
    }
    auto deadline = std::chrono::steady_clock::now() + kHelperWithin;
    for (;;) {
        if (helper.ready()) return child;
        int st = 0;
        pid_t r = ::waitpid(child, &st, WNOHANG);
        if (r == child)
            fail(WIFEXITED(st) && WEXITSTATUS(st) == 127
                     ? fmt::format("{} could not be run", args[0])
                     : fmt::format("{} ended ({})", args[0],
                                   WIFEXITED(st) ? fmt::format("exit status {}", WEXITSTATUS(st))
                                                 : fmt::format("signal {}", WTERMSIG(st))));
        if (std::chrono::steady_clock::now() > deadline)
            fail(fmt::format("not ready after {} s", kHelperWithin.count()));
        if (!child_fd) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            continue;
        }
        std::array<pollfd, 2> fds{pollfd{helper.ready_fd, POLLIN, 0},
                                  pollfd{child_fd.get(), POLLIN, 0}};
        auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline -
                                                                 std::chrono::steady_clock::now());
        if (::poll(fds.data(), fds.size(), static_cast<int>(std::max<long>(left.count(), 0))) < 0 &&
            errno != EINTR)
            fail(fmt::format("poll: {}", std::strerror(errno)));
    }
}

void stop_helper(const std::string& dir) {
    if (!sys::exists_follow(dir)) return;
    if (pid_t pid = running_helper(dir); pid > 0) kill_and_wait(pid, dir);
    sys::remove_all(dir);
}

void check_unprivileged_ports(const std::vector<PortMapping>& ports) {
    const char* sysctl = "/proc/sys/net/ipv4/ip_unprivileged_port_start";
    long start = 1024;
    try {
        start = std::stol(sys::read_file_if_exists(sysctl).value_or("1024"));
    } catch (const std::exception&) {
        // the kernel's default
    }
    for (auto& p : ports)
        if (p.host_port != 0 && p.host_port < start)  // 0: one is chosen, above
            throw Error(fmt::format(
                "rootless: host port {} is below net.ipv4.ip_unprivileged_port_start ({}): "
                "publish a port from {} up, or lower it (sysctl "
                "net.ipv4.ip_unprivileged_port_start={})",
                p.host_port, start, start, p.host_port));
}

}  // namespace husk::network
