#include "sys/spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/fd.h"
#include "sys/syscalls.h"

namespace husk::sys {
namespace {

long long now_ms() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

SpawnResult spawn_and_wait(const char* path, char* const* argv, char* const* envp, int timeout_s,
                           const char* input, size_t len, int out_fd, int err_fd) noexcept {
    int in[2];
    if (::pipe2(in, O_CLOEXEC) != 0) return {SpawnResult::Kind::failed, errno};
    pid_t pid = ::fork();
    if (pid < 0) {
        int e = errno;
        ::close(in[0]);
        ::close(in[1]);
        return {SpawnResult::Kind::failed, e};
    }
    if (pid == 0) {
        ::dup2(in[0], STDIN_FILENO);
        if (out_fd >= 0) ::dup2(out_fd, STDOUT_FILENO);
        if (err_fd >= 0) ::dup2(err_fd, STDERR_FILENO);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execve(path, argv, envp);
        ::_exit(127);
    }
    ::close(in[0]);
    // It may exit without reading its stdin: EPIPE, not SIGPIPE, while we write.
    struct sigaction ign {
    }, old{};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ign, &old);
    for (size_t off = 0; off < len;) {
        ssize_t w = ::write(in[1], input + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += static_cast<size_t>(w);
    }
    ::sigaction(SIGPIPE, &old, nullptr);
    ::close(in[1]);
    long long deadline = timeout_s > 0 ? now_ms() + timeout_s * 1000LL : 0;
    // with a deadline: woken by the child's pidfd when it ends (a 5 ms nap only where the
    // kernel has no pidfd_open)
    UniqueFd pidfd(deadline ? sys::pidfd_open(pid) : -1);
    for (;;) {
        int status = 0;
        pid_t r = ::waitpid(pid, &status, deadline ? WNOHANG : 0);
        if (r == pid) {
            if (WIFEXITED(status)) return {SpawnResult::Kind::exited, WEXITSTATUS(status)};
            return {SpawnResult::Kind::signaled, WTERMSIG(status)};
        }
        if (r < 0 && errno != EINTR) return {SpawnResult::Kind::failed, errno};
        if (deadline && now_ms() >= deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            return {SpawnResult::Kind::timed_out, 0};
        }
        if (deadline && pidfd) {
            pollfd p{pidfd.get(), POLLIN, 0};
            ::poll(&p, 1, static_cast<int>(std::clamp(deadline - now_ms(), 0LL, 1000LL)));
        } else if (deadline) {
            timespec ts{0, 5L * 1000 * 1000};
            ::nanosleep(&ts, nullptr);
        }
    }
}

ChildGuard::~ChildGuard() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
}

int ChildGuard::wait(const std::string& what) {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0)
        if (errno != EINTR) throw_sys("waitpid", what);
    pid_ = 0;
    return status;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
    std::vector<char*> out;
    out.reserve(v.size() + 1);
    for (auto& s : v) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

std::string describe_spawn_result(SpawnResult r) {
    switch (r.kind) {
        case SpawnResult::Kind::timed_out:
            return "timed out";
        case SpawnResult::Kind::signaled:
            return fmt::format("killed by signal {}", r.value);
        case SpawnResult::Kind::exited:
            return fmt::format("exit status {}", r.value);
        case SpawnResult::Kind::failed:
            break;
    }
    return describe_sys("run", "", r.value).substr(4);
}

void exec_detached(char* const* argv, int null, int err, std::initializer_list<int> keep,
                   char* const* envp) noexcept {
    if (null >= 0) {
        ::dup2(null, STDIN_FILENO);
        ::dup2(null, STDOUT_FILENO);
    }
    ::dup2(err >= 0 ? err : null, STDERR_FILENO);
    close_fds_except(3, keep);
    for (int fd : keep) ::fcntl(fd, F_SETFD, 0);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int s : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE}) ::sigaction(s, &dfl, nullptr);
    if (::chdir("/") == 0) {
        if (envp != nullptr)
            ::execve(argv[0], argv, envp);
        else
            ::execv(argv[0], argv);
    }
    ::_exit(127);
}

bool spawn_detached(char* const* argv, const char* err_path, std::initializer_list<int> keep,
                    int userns_fd, char* const* envp) {
    std::fflush(nullptr);
    pid_t x = ::fork();
    if (x < 0) return false;
    if (x == 0) {
        ::setsid();
        pid_t a = ::fork();
        if (a != 0) ::_exit(a < 0 ? 1 : 0);
        if (userns_fd >= 0 && ::setns(userns_fd, CLONE_NEWUSER) != 0) ::_exit(126);
        int null = ::open("/dev/null", O_RDWR);
        int err = err_path != nullptr ? ::open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0600) : -1;
        exec_detached(argv, null, err, keep, envp);
    }
    int st = 0;
    while (::waitpid(x, &st, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

}  // namespace husk::sys
