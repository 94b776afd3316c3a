// The config.json `husk-runtime spec` writes: the same container runc's
// `spec` describes (a busybox-style `sh` in ./rootfs), and with --rootless
// the changes runc makes for an unprivileged user.
#include <unistd.h>

#include <algorithm>

#include "oci/spec.h"

namespace husk::oci {

namespace {

constexpr const char* kLatestVersion = "1.3.0";

std::vector<Mount> default_mounts() {
    return {
        {"/proc", "proc", "proc", {}, {}, {}},
        {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}, {}, {}},
        {"/dev/pts",
         "devpts",
         "devpts",
         {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"},
         {},
         {}},
        {"/dev/shm",
         "tmpfs",
         "shm",
         {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"},
         {},
         {}},
        {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}, {}, {}},
        {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}, {}, {}},
        {"/sys/fs/cgroup",
         "cgroup",
         "cgroup",
         {"nosuid", "noexec", "nodev", "relatime", "ro"},
         {},
         {}},
    };
}

// What runc's --rootless does: a user namespace mapping only the caller, no
// network namespace (no way to wire it up), /sys bound from the host (sysfs
// needs a network namespace we own), no uid=/gid= options (those ids are not
// mapped), and no cgroup limits (not ours to set).
void make_rootless(Spec& s) {
    auto& l = *s.linux_;
    std::erase_if(l.namespaces,
                  [](const Namespace& n) { return n.type == "network" || n.type == "user"; });
    l.namespaces.push_back({"user", ""});
    l.uid_mappings = {{0, static_cast<uint32_t>(::geteuid()), 1}};
    l.gid_mappings = {{0, static_cast<uint32_t>(::getegid()), 1}};
    for (auto& m : s.mounts) {
        if (m.destination == "/sys") {
            m = Mount{"/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"}, {}, {}};
            continue;
        }
        std::erase_if(m.options, [](const std::string& o) {
            return o.starts_with("uid=") || o.starts_with("gid=");
        });
    }
    l.resources.reset();
}

}  // namespace

Spec default_spec(bool rootless) {
    Spec s;
    s.oci_version = kLatestVersion;

    Process p;
    p.terminal = true;
    p.args = {"sh"};
    p.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"};
    p.cwd = "/";
    std::vector<std::string> caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
    // As runc 1.1 without inheritable (CVE-2022-29162) and so without ambient: ambient caps
    // need inheritable ones, and would only be dropped with a warning.
    p.capabilities = Capabilities{caps, caps, {}, caps, {}};
    p.rlimits = {{"RLIMIT_NOFILE", 1024, 1024}};
    p.no_new_privileges = true;
    s.process = std::move(p);

    s.root = Root{"rootfs", true};
    s.hostname = "husk";
    s.mounts = default_mounts();

    Linux l;
    Resources r;
    r.devices = {DeviceRule{false, "", std::nullopt, std::nullopt, "rwm"}};
    l.resources = std::move(r);
    for (const char* type : {"pid", "network", "ipc", "uts", "mount", "cgroup"})
        l.namespaces.push_back({type, ""});
    l.masked_paths = {"/proc/acpi",
                      "/proc/asound",
                      "/proc/kcore",
                      "/proc/keys",
                      "/proc/latency_stats",
                      "/proc/timer_list",
                      "/proc/timer_stats",
                      "/proc/sched_debug",
                      "/sys/firmware",
                      "/proc/scsi",
                      "/sys/devices/virtual/powercap"};
    l.readonly_paths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
    s.linux_ = std::move(l);

    if (rootless) make_rootless(s);
    return s;
}

}  // namespace husk::oci
