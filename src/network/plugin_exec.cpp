#include "network/plugin_exec.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sys/error.h"
#include "sys/fd.h"

extern char** environ;

namespace husk::network {

namespace {

std::string find_plugin(const std::string& type, const std::vector<std::string>& dirs) {
    if (type.find('/') != std::string::npos) throw Error(fmt::format("invalid plugin type"));
    for (auto& d : dirs) {
        std::string p = d + "/" + type;
        if (::access(p.c_str(), X_OK) == 0) return p;
    }
    std::string all;
    for (auto& d : dirs) all += (all.empty() ? "" : ":") + d;
    throw Error(fmt::format("not found in {} (package containernetworking-plugins)", all));
}

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (auto& s : v) out += (out.empty() ? "" : ":") + s;
    return out;
}

// The plugin's own words: {"code": N, "msg": "...", "details": "..."} on stdout.
std::string error_text(const std::string& out, const std::string& how) {
    try {
        auto j = nlohmann::json::parse(out);
        std::string msg = j.value("msg", "");
        std::string details = j.value("details", "");
        if (!details.empty() && details != msg) msg += msg.empty() ? details : ": " + details;
        if (!msg.empty()) return msg;
    } catch (const std::exception&) {
    }
    return out.empty() ? how : fmt::format("{}: {}", how, out);
}

}  // namespace

std::vector<std::string> default_cni_path() {
    if (const char* env = std::getenv("HUSK_CNI_PATH"); env && *env) {
        std::vector<std::string> out;
        std::string s = env;
        size_t pos = 0;
        while (pos <= s.size()) {
            size_t c = s.find(':', pos);
            if (c == std::string::npos) c = s.size();
            if (c > pos) out.push_back(s.substr(pos, c - pos));
            pos = c + 1;
        }
        return out;
    }
    return {"/usr/lib/cni", "/opt/cni/bin"};
}

std::string exec_plugin(const std::string& type, const PluginCall& call,
                        const std::string& config) {
    std::string path = find_plugin(type, call.cni_path);
    // Everything the child needs is made before the fork.
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e)
        if (std::string_view(*e).substr(0, 4) != "CNI_") env.push_back(*e);
    env.push_back("CNI_COMMAND=" + call.command);
    env.push_back("CNI_CONTAINERID=" + call.container_id);
    env.push_back("CNI_NETNS=" + call.netns);
    env.push_back("CNI_IFNAME=" + call.ifname);
    env.push_back("CNI_PATH=" + join(call.cni_path));
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    char* argv[] = {path.data(), nullptr};

    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0) throw_sys("pipe2");
    sys::UniqueFd in_r(in[0]), in_w(in[1]);
    if (::pipe2(out, O_CLOEXEC) != 0) throw_sys("pipe2");
    sys::UniqueFd out_r(out[0]), out_w(out[1]);
    pid_t pid = ::fork();
    if (pid < 0) throw_sys("fork");
    if (pid == 0) {
        ::dup2(in_r.get(), STDIN_FILENO);
        ::dup2(out_w.get(), STDOUT_FILENO);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execve(path.c_str(), argv, envp.data());
        ::_exit(127);
    }
    in_r.reset();
    out_w.reset();
    // The configuration is a few KiB, far below a pipe's buffer: write all, then read.
    struct sigaction ign {
    }, old{};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ign, &old);
    size_t off = 0;
    while (off < config.size()) {
        ssize_t n = ::write(in_w.get(), config.data() + off, config.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // it exited without reading: its status tells why
        off += static_cast<size_t>(n);
    }
    ::sigaction(SIGPIPE, &old, nullptr);
    in_w.reset();
    std::string result;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(out_r.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        result.append(buf, static_cast<size_t>(n));
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return result;
    std::string how = WIFEXITED(status) ? fmt::format("exit status {}", WEXITSTATUS(status))
                                        : fmt::format("killed by signal {}", WTERMSIG(status));
    throw Error(error_text(result, how));
}

}  // namespace husk::network
