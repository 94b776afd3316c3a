// Devices: the nodes a container gets and the device cgroup rules that go with them.
#include "runtime/devices.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "runtime/init.h"
#include "sys/fd.h"
#include "sys/mount_api.h"
#include "sys/safe_path.h"

namespace husk::runtime {
namespace {

struct DefaultDevice {
    const char* path;
    unsigned major, minor;
};
constexpr DefaultDevice kDefaultDevices[] = {
    {"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

}  // namespace

std::optional<oci::Resources> effective_resources(const oci::Spec& spec) {
    if (!spec.linux_ || !spec.linux_->resources) return std::nullopt;
    oci::Resources r = *spec.linux_->resources;
    auto allow = [&](const char* type, std::optional<int64_t> major, std::optional<int64_t> minor,
                     const char* access) {
        oci::DeviceRule d;
        d.allow = true;
        d.type = type;
        d.major = major;
        d.minor = minor;
        d.access = access;
        r.devices.push_back(d);
    };
    allow("c", std::nullopt, std::nullopt, "m");
    allow("b", std::nullopt, std::nullopt, "m");
    for (const auto& d : kDefaultDevices) allow("c", d.major, d.minor, "rwm");
    allow("c", 136, std::nullopt, "rwm");  // /dev/pts/*
    allow("c", 5, 2, "rwm");               // /dev/ptmx
    allow("c", 10, 200, "rwm");            // /dev/net/tun
    // linux.devices are not added: creating a node is not access to it, as runc. The engine
    // that passes them allows them in linux.resources.devices (podman, docker, husk run do).
    return r;
}

void plan_devices(const oci::Spec& spec, bool dev_bound, bool rootless, Plan& p) {
    // mknod needs the host's root: not in a user namespace of the container's, nor when we
    // are rootless (rootless podman runs us as its namespace's root)
    bool userns = p.in_user_ns() || rootless;
    if (!dev_bound) {
        for (const auto& d : kDefaultDevices) {
            bool overridden = false;
            if (spec.linux_)
                for (const auto& sd : spec.linux_->devices) overridden |= sd.path == d.path;
            if (overridden) continue;
            PlannedDevice pd;
            pd.path = d.path;
            pd.mode = S_IFCHR | 0666;
            pd.dev = makedev(d.major, d.minor);
            pd.bind_from_host = userns;
            p.devices.push_back(pd);
        }
    }
    if (!spec.linux_) return;
    for (size_t i = 0; i < spec.linux_->devices.size(); ++i) {
        const auto& d = spec.linux_->devices[i];
        PlannedDevice pd;
        pd.path = d.path;
        mode_t type = d.type == "b" ? S_IFBLK : d.type == "p" ? S_IFIFO : S_IFCHR;
        pd.mode = type | (d.file_mode ? (*d.file_mode & 07777) : 0666);
        pd.dev = makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor));
        pd.uid = d.uid.value_or(0);
        pd.gid = d.gid.value_or(0);
        pd.bind_from_host = userns;
        p.devices.push_back(pd);
    }
}

// --- child side: runs between clone and execve ---
namespace {

using sys::UniqueFd;

void make_device(const Plan& p, int rootfd, const PlannedDevice& d) noexcept {
    if (d.bind_from_host) {
        int t = sys::ensure_in_root(rootfd, d.path.c_str(), false, 0644);
        if (t < 0) init_fail(p, "create device target", d.path.c_str(), -t);
        UniqueFd target(t);
        int tr = sys::clone_mount(AT_FDCWD, d.path.c_str());
        if (tr < 0) init_fail(p, "bind host device", d.path.c_str(), -tr);
        UniqueFd tree(tr);
        if (int r = sys::attach_mount(tree.get(), target.get()); r < 0)
            init_fail(p, "bind device", d.path.c_str(), -r);
        return;
    }
    char name[NAME_MAX + 1];
    int parent = sys::parent_in_root(rootfd, d.path.c_str(), name, sizeof name, true, 0755);
    if (parent < 0) init_fail(p, "create device directory", d.path.c_str(), -parent);
    UniqueFd guard(parent);
    // Made where nothing is (the usual case: one call); what is there already (a file of
    // the image, an earlier node) is replaced. A directory stays: mknod says EEXIST.
    if (::mknodat(parent, name, d.mode, d.dev) != 0) {
        if (errno != EEXIST) init_fail(p, "mknod", d.path.c_str(), errno);
        if (::unlinkat(parent, name, 0) != 0 && errno != ENOENT)
            init_fail(p, errno == EISDIR ? "mknod" : "remove old device", d.path.c_str(),
                      errno == EISDIR ? EEXIST : errno);
        if (::mknodat(parent, name, d.mode, d.dev) != 0)
            init_fail(p, "mknod", d.path.c_str(), errno);
    }
    if (::fchownat(parent, name, d.uid, d.gid, AT_SYMLINK_NOFOLLOW) != 0)
        init_fail(p, "chown device", d.path.c_str(), errno);
}

}  // namespace

void make_devices(const Plan& p, int rootfd) noexcept {
    for (const auto& d : p.devices) make_device(p, rootfd, d);
}
// --- end child side ---

}  // namespace husk::runtime
