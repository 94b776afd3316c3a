#include "runtime/features.h"

#include <nlohmann/json.hpp>

namespace husk::runtime {

std::string features_json() {
    using nlohmann::json;
    json f;
    f["ociVersionMin"] = "1.0.0";
    f["ociVersionMax"] = "1.3.0";
    f["mountOptions"] = {
        "async",       "atime",       "bind",           "defaults",  "dev",
        "diratime",    "exec",        "noatime",        "nodev",     "nodiratime",
        "noexec",      "norelatime",  "nostrictatime",  "nosuid",    "nosymfollow",
        "private",     "rbind",       "rdev",           "rdiratime", "relatime",
        "remount",     "rexec",       "rnoatime",       "rnodev",    "rnodiratime",
        "rnoexec",     "rnorelatime", "rnostrictatime", "rnosuid",   "rnosymfollow",
        "ro",          "rprivate",    "rrelatime",      "rro",       "rrw",
        "rshared",     "rslave",      "rstrictatime",   "rsuid",     "rsymfollow",
        "runbindable", "rw",          "shared",         "slave",     "strictatime",
        "suid",        "symfollow",   "unbindable"};
    json linux;
    linux["namespaces"] = {"cgroup", "ipc", "mount", "network", "pid", "user", "uts"};
    linux["cgroup"] = {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}};
    linux["apparmor"] = {{"enabled", false}};
    linux["selinux"] = {{"enabled", false}};
    linux["intelRdt"] = {{"enabled", false}};
    linux["mountExtensions"] = {{"idmap", {{"enabled", false}}}};
    f["linux"] = linux;
    f["annotations"] = {{"org.opencontainers.runtime-spec.features", "husk-runtime"}};
    return f.dump(4);
}

}  // namespace husk::runtime
