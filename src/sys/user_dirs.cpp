#include "sys/user_dirs.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/fileutil.h"

namespace husk::sys {

namespace {

std::string home_dir(const char* what) {
    const char* home = std::getenv("HOME");
    if (home == nullptr || *home != '/')
        throw Error(fmt::format("rootless: neither ${} nor $HOME (an absolute path) is set", what));
    return home;
}

std::string env_dir(const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr && *v == '/' ? std::string(v) : std::string();
}

}  // namespace

uid_t host_euid() {
    // Decided once: a rootless exec enters the container's user namespace, and a user's
    // network set-up the holder's (engine/rootless_netns.h), where it is root.
    static const uid_t euid = ::geteuid();
    return euid;
}

bool rootless() {
    return host_euid() != 0;
}

bool in_user_namespace() {
    // decided once, as host_euid
    static const bool in = [] {
        auto map = read_file_if_exists("/proc/self/uid_map");
        return map && map->find("4294967295") == std::string::npos;
    }();
    return in;
}

bool unprivileged() {
    return rootless() || in_user_namespace();
}

std::string user_name() {
    uid_t uid = host_euid();
    std::unique_ptr<FILE, int (*)(FILE*)> f(::fopen("/etc/passwd", "re"), ::fclose);
    if (f) {
        while (passwd* pw = ::fgetpwent(f.get()))
            if (pw->pw_uid == uid) return pw->pw_name;
    }
    return std::to_string(uid);
}

std::string xdg_data_home() {
    std::string d = env_dir("XDG_DATA_HOME");
    return d.empty() ? home_dir("XDG_DATA_HOME") + "/.local/share" : d;
}

std::string xdg_config_home() {
    std::string d = env_dir("XDG_CONFIG_HOME");
    return d.empty() ? home_dir("XDG_CONFIG_HOME") + "/.config" : d;
}

std::string xdg_runtime_dir(bool* fallback) {
    std::string d = env_dir("XDG_RUNTIME_DIR");
    if (fallback != nullptr) *fallback = d.empty();
    if (!d.empty()) return d;
    uid_t uid = host_euid();
    d = fmt::format("/tmp/husk-run-{}", uid);
    if (::mkdir(d.c_str(), 0700) == 0)
        fmt::print(stderr, "{}\n", runtime_dir_note(d));  // once: when it is made
    else if (errno != EEXIST)
        throw_sys("mkdir", d);
    struct stat st {};
    if (::lstat(d.c_str(), &st) != 0) throw_sys("lstat", d);
    // Someone else may have made it first, to watch or swap our state: refuse. Its owner as
    // we see ourselves: the user on the host, root in a user namespace mapping the user there.
    if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 077) != 0)
        throw Error(fmt::format(
            "rootless: {} is not a private directory of uid {} (mode 0700); remove it or set "
            "$XDG_RUNTIME_DIR",
            shown(d), uid));
    return d;
}

std::string runtime_dir_note(const std::string& dir) {
    return fmt::format(
        "husk: note: $XDG_RUNTIME_DIR is not set; runtime state is kept in {} (set it, "
        "e.g. by logging in through systemd-logind, to keep it in /run/user)",
        dir);
}

}  // namespace husk::sys
