#include "runtime/hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/fd.h"
#include "sys/log.h"

namespace husk::runtime {
namespace {

constexpr int kTimedOut = -ETIMEDOUT;

long long now_ms() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// fork + execve the hook with `state` on stdin and stderr to `err_fd` (-1: inherit);
// wait for it within `timeout` seconds. Async-signal-safe.
int spawn_and_wait(const char* path, char* const* argv, char* const* envp, int timeout,
                   const char* state, size_t len, int err_fd) noexcept {
    int in[2];
    if (::pipe2(in, O_CLOEXEC) != 0) return -errno;
    pid_t pid = ::fork();
    if (pid < 0) {
        int e = errno;
        ::close(in[0]);
        ::close(in[1]);
        return -e;
    }
    if (pid == 0) {
        ::dup2(in[0], 0);
        if (err_fd >= 0) ::dup2(err_fd, 2);
        ::execve(path, argv, envp);
        ::_exit(127);
    }
    ::close(in[0]);
    // The hook may not read its stdin: ignore EPIPE (we run with SIGPIPE possibly default).
    signal(SIGPIPE, SIG_IGN);
    size_t off = 0;
    while (off < len) {
        ssize_t w = ::write(in[1], state + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += static_cast<size_t>(w);
    }
    ::close(in[1]);
    long long deadline = timeout > 0 ? now_ms() + timeout * 1000LL : 0;
    for (;;) {
        int status = 0;
        pid_t r = ::waitpid(pid, &status, deadline ? WNOHANG : 0);
        if (r == pid) {
            if (WIFEXITED(status)) return WEXITSTATUS(status) == 0 ? 0 : 1000 + WEXITSTATUS(status);
            return 2000 + WTERMSIG(status);
        }
        if (r < 0 && errno != EINTR) return -errno;
        if (deadline && now_ms() >= deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            return kTimedOut;
        }
        timespec ts{0, 5L * 1000 * 1000};
        ::nanosleep(&ts, nullptr);
    }
}

std::vector<char*> c_array(std::vector<std::string>& v) {
    std::vector<char*> out;
    out.reserve(v.size() + 1);
    for (auto& s : v) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

std::string run_one(const char* phase, size_t i, const oci::Hook& h, const std::string& state) {
    std::vector<std::string> args = h.args.empty() ? std::vector<std::string>{h.path} : h.args;
    std::vector<std::string> env = h.env;
    auto argv = c_array(args);
    auto envp = c_array(env);
    // The hook's stderr, for the error message (the first 512 bytes).
    sys::UniqueFd err(::memfd_create("hook-stderr", MFD_CLOEXEC));
    int code = spawn_and_wait(h.path.c_str(), argv.data(), envp.data(), h.timeout.value_or(0),
                              state.data(), state.size(), err ? err.get() : -1);
    std::string out;
    if (err) {
        char buf[512];
        ssize_t n = ::pread(err.get(), buf, sizeof buf, 0);
        if (n > 0) out.assign(buf, static_cast<size_t>(n));
        while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    }
    if (code == 0) return "";
    std::string msg =
        fmt::format("{} hook #{} \"{}\": {}", phase, i, h.path, describe_hook_failure(code));
    if (code == 1127) msg += " (not found or not executable)";
    if (!out.empty()) msg += ": " + out;
    return msg;
}

}  // namespace

std::string describe_hook_failure(int code) {
    if (code == kTimedOut) return "timed out";
    if (code >= 2000) return fmt::format("killed by signal {}", code - 2000);
    if (code >= 1000) return fmt::format("exit status {}", code - 1000);
    return describe_sys("run", "", -code).substr(4);
}

void run_hooks(const char* phase, const std::vector<oci::Hook>& hooks,
               const std::string& state_json) {
    for (size_t i = 0; i < hooks.size(); ++i)
        if (auto err = run_one(phase, i, hooks[i], state_json); !err.empty()) throw Error(err);
}

void run_hooks_warn(const char* phase, const std::vector<oci::Hook>& hooks,
                    const std::string& state_json) {
    for (size_t i = 0; i < hooks.size(); ++i)
        if (auto err = run_one(phase, i, hooks[i], state_json); !err.empty()) log::warn("{}", err);
}

std::vector<PlannedHook> plan_hooks(const std::vector<oci::Hook>& hooks) {
    std::vector<PlannedHook> out(hooks.size());
    for (size_t i = 0; i < hooks.size(); ++i) {
        auto& p = out[i];
        p.path = hooks[i].path;
        p.args = hooks[i].args.empty() ? std::vector<std::string>{p.path} : hooks[i].args;
        p.env = hooks[i].env;
        p.timeout = hooks[i].timeout.value_or(0);
    }
    // Pointers only once the vector no longer moves.
    for (auto& p : out) {
        p.argv = c_array(p.args);
        p.envp = c_array(p.env);
    }
    return out;
}

int run_hook_in_init(const PlannedHook& h, const char* state, size_t len) noexcept {
    return spawn_and_wait(h.path.c_str(), h.argv.data(), h.envp.data(), h.timeout, state, len, -1);
}

}  // namespace husk::runtime
