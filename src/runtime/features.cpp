#include "runtime/features.h"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <string_view>

#include <nlohmann/json.hpp>

#include "oci/names.h"

namespace husk::runtime {
namespace {

using nlohmann::json;

json names(oci::NameList list) {
    json a = json::array();
    for (auto n : list) a.push_back(std::string(n));
    return a;
}

// The kernel knows a filter flag when seccomp(SET_MODE_FILTER, flag, NULL) gets as far as
// reading the (missing) program: EFAULT; an unknown flag is EINVAL (runc's test).
bool kernel_has_filter_flag(unsigned flag) {
    if (flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) flag |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    long r = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, nullptr);
    return r < 0 && errno == EFAULT;
}

unsigned filter_flag(std::string_view name) {
    if (name == "SECCOMP_FILTER_FLAG_TSYNC") return SECCOMP_FILTER_FLAG_TSYNC;
    if (name == "SECCOMP_FILTER_FLAG_LOG") return SECCOMP_FILTER_FLAG_LOG;
    if (name == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") return SECCOMP_FILTER_FLAG_SPEC_ALLOW;
    if (name == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")
        return SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
    return 0;
}

// linux.seccomp: the names config.json may use, narrowed to what the libseccomp we run
// with (its API level, its architectures) and the kernel support.
json seccomp_features() {
    const unsigned api = seccomp_api_get();
    json actions = json::array();
    for (auto a : oci::seccomp_actions()) {
        // KILL_PROCESS and LOG need API level 3, NOTIFY level 5 (libseccomp's levels).
        if ((a == "SCMP_ACT_KILL_PROCESS" || a == "SCMP_ACT_LOG") && api < 3) continue;
        if (a == "SCMP_ACT_NOTIFY" && api < 5) continue;
        actions.push_back(std::string(a));
    }
    json archs = json::array();
    for (auto a : oci::seccomp_archs()) {
        std::string lower(a.substr(std::string_view("SCMP_ARCH_").size()));
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (seccomp_arch_resolve_name(lower.c_str()) != 0) archs.push_back(std::string(a));
    }
    json supported = json::array();
    for (auto f : oci::seccomp_flags())
        if (unsigned bit = filter_flag(f); bit != 0 && kernel_has_filter_flag(bit))
            supported.push_back(std::string(f));
    return {{"enabled", true},
            {"actions", actions},
            {"operators", names(oci::seccomp_operators())},
            {"archs", archs},
            {"knownFlags", names(oci::seccomp_flags())},
            {"supportedFlags", supported}};
}

}  // namespace

std::string features_json() {
    json f;
    f["ociVersionMin"] = "1.0.0";
    f["ociVersionMax"] = "1.3.0";
    f["hooks"] = names(oci::hook_names());
    f["mountOptions"] = {"async",       "atime",          "bind",        "defaults",
                         "dev",         "diratime",       "exec",        "idmap",
                         "noatime",     "nodev",          "nodiratime",  "noexec",
                         "norelatime",  "nostrictatime",  "nosuid",      "nosymfollow",
                         "private",     "rbind",          "rdev",        "rdiratime",
                         "relatime",    "remount",        "rexec",       "ridmap",
                         "rnoatime",    "rnodev",         "rnodiratime", "rnoexec",
                         "rnorelatime", "rnostrictatime", "rnosuid",     "rnosymfollow",
                         "ro",          "rprivate",       "rrelatime",   "rro",
                         "rrw",         "rshared",        "rslave",      "rstrictatime",
                         "rsuid",       "rsymfollow",     "runbindable", "rw",
                         "shared",      "slave",          "strictatime", "suid",
                         "symfollow",   "unbindable"};
    json linux;
    linux["namespaces"] = {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"};
    linux["capabilities"] = names(oci::capability_names());
    linux["cgroup"] = {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}};
    linux["seccomp"] = seccomp_features();
    linux["apparmor"] = {{"enabled", false}};
    linux["selinux"] = {{"enabled", false}};
    linux["intelRdt"] = {{"enabled", false}};
    linux["mountExtensions"] = {{"idmap", {{"enabled", true}}}};
    f["linux"] = linux;
    f["annotations"] = {{"org.opencontainers.runtime-spec.features", "husk-runtime"}};
    return f.dump(4);
}

}  // namespace husk::runtime
