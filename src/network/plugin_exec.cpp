#include "network/plugin_exec.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "sys/error.h"
#include "sys/fd.h"
#include "sys/spawn.h"

extern char** environ;

namespace husk::network {

namespace {

std::string find_plugin(const std::string& type, const std::vector<std::string>& dirs) {
    if (type.find('/') != std::string::npos) throw Error(fmt::format("invalid plugin type"));
    for (auto& d : dirs) {
        std::string p = fmt::format("{}/{}", d, type);
        if (::access(p.c_str(), X_OK) == 0) return p;
    }
    throw Error(
        fmt::format("not found in {} (package containernetworking-plugins)", fmt::join(dirs, ":")));
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
    env.push_back(fmt::format("CNI_PATH={}", fmt::join(call.cni_path, ":")));
    auto envp = sys::c_strings(env);
    char* argv[] = {path.data(), nullptr};

    // Its stdout (the result) in a memfd: read once it has exited, no pipe to drain.
    sys::UniqueFd out(::memfd_create("cni-result", MFD_CLOEXEC));
    if (!out) throw_sys("memfd_create");
    sys::SpawnResult r = sys::spawn_and_wait(path.c_str(), argv, envp.data(), 0, config.data(),
                                             config.size(), out.get(), -1);
    std::string result;
    char buf[8192];
    for (off_t at = 0;;) {
        ssize_t n = ::pread(out.get(), buf, sizeof buf, at);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        result.append(buf, static_cast<size_t>(n));
        at += n;
    }
    if (r.ok()) return result;
    if (r.kind == sys::SpawnResult::Kind::failed) throw_sys("run plugin", path, r.value);
    std::string how = sys::describe_spawn_result(r);
    throw Error(error_text(result, how));
}

}  // namespace husk::network
