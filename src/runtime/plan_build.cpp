#include "runtime/plan_build.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>

#include <fmt/format.h>

#include "runtime/cgroup_mounts.h"
#include "runtime/idmap.h"
#include "runtime/security/lsm.h"
#include "runtime/timens.h"
#include "sys/error.h"
#include "sys/log.h"

namespace husk::runtime {
namespace {

struct NsName {
    const char* name;
    int flag;
};
constexpr NsName kNamespaces[] = {
    {"pid", CLONE_NEWPID},       {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS},
    {"ipc", CLONE_NEWIPC},       {"uts", CLONE_NEWUTS},     {"user", CLONE_NEWUSER},
    {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

struct RlimitName {
    const char* name;
    int resource;
};
constexpr RlimitName kRlimits[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

struct DefaultDevice {
    const char* path;
    unsigned major, minor;
};
constexpr DefaultDevice kDefaultDevices[] = {
    {"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

std::string absolute_in(const std::string& base, const std::string& path) {
    if (!path.empty() && path[0] == '/') return path;
    return base + "/" + path;
}

PlannedMount symlink(const char* target, const char* link) {
    PlannedMount m;
    m.kind = PlannedMount::Kind::symlink;
    m.source = target;
    m.target = link;
    return m;
}

// An idmapped bind (options idmap/ridmap, or mappings on the mount): the mount's own
// mappings, else the container's user namespace's, as runc: a joined one is itself the
// idmap. Returns the detached mount.
int idmapped_bind(const oci::Spec& spec, size_t i, const PlannedMount& pm, int user_join_fd) {
    const auto& m = spec.mounts[i];
    if (m.uid_mappings.empty() && m.gid_mappings.empty() && user_join_fd >= 0)
        return open_idmapped_tree(pm.source, pm.opts, user_join_fd).release();
    static const std::vector<oci::IdMapping> kNone;
    const auto& uids = !m.uid_mappings.empty() ? m.uid_mappings
                       : spec.linux_           ? spec.linux_->uid_mappings
                                               : kNone;
    const auto& gids = !m.gid_mappings.empty() ? m.gid_mappings
                       : spec.linux_           ? spec.linux_->gid_mappings
                                               : kNone;
    if (uids.empty() || gids.empty())
        throw Error(
            "an idmapped mount needs uidMappings and gidMappings, on the mount or for the "
            "container's user namespace");
    format_id_map(uids, fmt::format("mounts[{}].uidMappings", i).c_str());
    format_id_map(gids, fmt::format("mounts[{}].gidMappings", i).c_str());
    sys::UniqueFd ns = userns_with_maps(uids, gids);
    return open_idmapped_tree(pm.source, pm.opts, ns.get()).release();
}

// sysfs can only be mounted by the user namespace that owns the network namespace: a
// container in a user namespace without a network namespace of its own gets the host's
// /sys bound read-only instead, as runc does.
PlannedMount sysfs_as_bind(PlannedMount pm) {
    pm.kind = PlannedMount::Kind::bind;
    pm.source = "/sys";
    pm.fstype = "bind";
    pm.opts = parse_mount_options("bind", {"rbind", "rro", "nosuid", "nodev", "noexec"});
    return pm;
}

void plan_mounts(const oci::Spec& spec, const PlanInputs& in, bool userns, bool own_netns,
                 bool cgroupns, Plan& p) {
    bool dev_bound = false, dev_pts = false;
    for (size_t i = 0; i < spec.mounts.size(); ++i) {
        const auto& m = spec.mounts[i];
        auto ctx = fmt::format("mounts[{}] ({})", i, m.destination);
        PlannedMount pm;
        pm.target = m.destination;
        pm.fstype = m.type;
        pm.source = m.source;
        with_context(ctx, [&] { pm.opts = parse_mount_options(m.type, m.options); });
        if (pm.opts.bind) {
            pm.kind = PlannedMount::Kind::bind;
            pm.source = absolute_in(in.bundle, m.source);
            struct stat st {};
            if (::stat(pm.source.c_str(), &st) != 0)
                with_context(ctx, [&] { throw_sys("stat bind source", pm.source); });
            pm.dir_target = S_ISDIR(st.st_mode);
            if (m.destination == "/dev") dev_bound = true;
            if (pm.opts.idmap || !m.uid_mappings.empty() || !m.gid_mappings.empty())
                pm.premade_fd =
                    with_context(ctx, [&] { return idmapped_bind(spec, i, pm, p.user_join_fd); });
            p.mounts.push_back(std::move(pm));
        } else if (pm.opts.idmap || !m.uid_mappings.empty() || !m.gid_mappings.empty()) {
            throw Error(fmt::format("{}: idmapped mounts need a bind mount", ctx));
        } else if (m.type == "sysfs" && userns && !own_netns) {
            p.mounts.push_back(sysfs_as_bind(std::move(pm)));
        } else if (m.type == "cgroup" || m.type == "cgroup2") {
            append_cgroup_mounts(pm, cgroupns ? nullptr : &in.cgroup_dirs, p.mounts);
        } else {
            if (m.type.empty()) throw Error(fmt::format("{}: mount type is required", ctx));
            if (m.type == "devpts") dev_pts = true;
            p.mounts.push_back(std::move(pm));
        }
    }
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
        p.mounts.push_back(symlink("/proc/self/fd", "/dev/fd"));
        p.mounts.push_back(symlink("/proc/self/fd/0", "/dev/stdin"));
        p.mounts.push_back(symlink("/proc/self/fd/1", "/dev/stdout"));
        p.mounts.push_back(symlink("/proc/self/fd/2", "/dev/stderr"));
        if (::access("/proc/kcore", F_OK) == 0)
            p.mounts.push_back(symlink("/proc/kcore", "/dev/core"));
        if (dev_pts) p.mounts.push_back(symlink("pts/ptmx", "/dev/ptmx"));
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

void plan_namespaces(const oci::Linux& lx, const PlanInputs& in, Plan& p, unsigned long& flags) {
    std::vector<PlannedNamespaceJoin> mount_join;
    for (size_t i = 0; i < lx.namespaces.size(); ++i) {
        const auto& ns = lx.namespaces[i];
        int flag = namespace_flag(ns.type);
        if (ns.path.empty()) {
            flags |= static_cast<unsigned long>(flag);
            continue;
        }
        // A PID namespace is joined by the parent around the clone, a user namespace by a
        // helper that clones the init from inside it (init_clone): not both at once, the
        // helper would be born in the joined PID namespace and report the init's pid there.
        if (flag == CLONE_NEWPID &&
            std::any_of(lx.namespaces.begin(), lx.namespaces.end(), [](const oci::Namespace& n) {
                return n.type == "user" && !n.path.empty();
            }))
            throw Error(fmt::format(
                "linux.namespaces[{}]: joining an existing pid namespace together with an "
                "existing user namespace is not supported",
                i));
        PlannedNamespaceJoin j;
        j.fd = ::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC);
        if (j.fd < 0)
            with_context(fmt::format("linux.namespaces[{}]", i),
                         [&] { throw_sys("open namespace", ns.path); });
        if (flag == CLONE_NEWUSER) {
            p.user_join_fd = j.fd;
            p.user_join_path = ns.path;
            continue;
        }
        if (flag == CLONE_NEWPID) {
            p.pid_join_fd = j.fd;
            p.pid_join_path = ns.path;
            continue;
        }
        j.nstype = flag;
        j.path = ns.path;
        (flag == CLONE_NEWNS ? mount_join : p.joins).push_back(std::move(j));
    }
    for (auto& j : mount_join) p.joins.push_back(std::move(j));
    if ((flags & CLONE_NEWCGROUP) && in.cgroup_ns_after_join) {
        flags &= ~static_cast<unsigned long>(CLONE_NEWCGROUP);
        p.unshare_cgroup_after_join = true;
    }
    p.new_user_ns = flags & CLONE_NEWUSER;
    if (flags & CLONE_NEWTIME) {  // offsets go in before anyone enters: see timens.h
        flags &= ~static_cast<unsigned long>(CLONE_NEWTIME);
        p.new_time_ns = true;
    }
    p.new_mount_ns = (flags & CLONE_NEWNS) || !mount_join.empty();
}

void plan_process(const oci::Process& pr, Plan& p) {
    p.uid = pr.user.uid;
    p.gid = pr.user.gid;
    p.additional_gids.assign(pr.user.additional_gids.begin(), pr.user.additional_gids.end());
    p.umask = pr.user.umask.value_or(022);
    p.cwd = pr.cwd.empty() ? "/" : pr.cwd;
    p.args = pr.args;
    p.env = pr.env;
    for (const auto& e : pr.env)
        if (e.rfind("PATH=", 0) == 0) p.path_env = e.substr(5);
    p.no_new_privileges = pr.no_new_privileges;
    for (size_t i = 0; i < pr.rlimits.size(); ++i) {
        const auto& r = pr.rlimits[i];
        int res = rlimit_resource(r.type);
        if (res < 0)
            throw Error(fmt::format("process.rlimits[{}].type: unknown rlimit \"{}\"", i, r.type));
        p.rlimits.push_back({res, r.soft, r.hard});
    }
    if (pr.oom_score_adj) {
        p.set_oom_score_adj = true;
        p.oom_score_adj = std::to_string(*pr.oom_score_adj);
    }
}

// linux.intelRdt, linux.mountLabel: fields needing kernel facilities this runtime does not
// drive (resctrl, SELinux); empty is fine.
void check_unsupported_linux(const oci::Linux& lx) {
    if (!lx.mount_label.empty())
        security::refuse_lsm("linux.mountLabel", lx.mount_label, security::Lsm::selinux);
    if (lx.intel_rdt) {
        bool resctrl = ::access("/sys/fs/resctrl/schemata", F_OK) == 0;
        throw Error(resctrl ? "linux.intelRdt: Intel RDT is not supported by husk-runtime"
                            : "linux.intelRdt: Intel RDT (resctrl) is not available on this host");
    }
}

// A container without a mount namespace of its own: runc and crun run it, making the
// mounts in the runtime's mount namespace (where they outlive the container), so we do
// too, with a warning. Masking paths there would mask them for the host: refused, as runc.
void check_without_mount_ns(const oci::Spec& spec, const oci::Linux& lx,
                            const std::string& rootfs) {
    if (!lx.masked_paths.empty() || !lx.readonly_paths.empty())
        throw Error(fmt::format(
            "linux.{}: masked and read-only paths need a mount namespace (a linux.namespaces "
            "entry of type \"mount\")",
            lx.masked_paths.empty() ? "readonlyPaths" : "maskedPaths"));
    if (!spec.mounts.empty())
        log::warn(
            "linux.namespaces: no mount namespace: mounts are made in the runtime's own mount "
            "namespace, under {}, and stay there after the container ends",
            rootfs);
}

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

int namespace_flag(const std::string& type) {
    for (const auto& n : kNamespaces)
        if (type == n.name) return n.flag;
    return 0;
}

int rlimit_resource(const std::string& name) {
    for (const auto& r : kRlimits)
        if (name == r.name) return r.resource;
    return -1;
}

void check_sysctl(const std::string& key, unsigned long flags) {
    auto starts = [&](const char* pfx) { return key.rfind(pfx, 0) == 0; };
    bool ipc = key == "kernel.msgmax" || key == "kernel.msgmnb" || key == "kernel.msgmni" ||
               key == "kernel.sem" || key == "kernel.shmall" || key == "kernel.shmmax" ||
               key == "kernel.shmmni" || key == "kernel.shm_rmid_forced" || starts("fs.mqueue.");
    if (ipc) {
        if (!(flags & CLONE_NEWIPC))
            throw Error(fmt::format("linux.sysctl: \"{}\" needs a private IPC namespace", key));
        return;
    }
    if (starts("net.")) {
        if (!(flags & CLONE_NEWNET))
            throw Error(fmt::format("linux.sysctl: \"{}\" needs a private network namespace", key));
        return;
    }
    if (key == "kernel.hostname" || key == "kernel.domainname") {
        if (!(flags & CLONE_NEWUTS))
            throw Error(fmt::format("linux.sysctl: \"{}\" needs a private UTS namespace", key));
        return;
    }
    throw Error(fmt::format(
        "linux.sysctl: \"{}\" is not namespaced: setting it would change the host", key));
}

void Plan::finalize() {
    argv.clear();
    envp.clear();
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
}

Plan build_plan(const oci::Spec& spec, const PlanInputs& in, unsigned long& clone_flags) {
    Plan p;
    clone_flags = 0;
    if (!spec.root) throw Error("root: a root filesystem is required");
    if (!spec.process) throw Error("process: a process is required to create a container");
    std::string rootfs = absolute_in(in.bundle, spec.root->path);
    char real[PATH_MAX];
    if (!::realpath(rootfs.c_str(), real)) throw_sys("resolve root.path", rootfs);
    p.rootfs = real;
    struct stat st {};
    if (::stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
        throw Error(fmt::format("root.path \"{}\": not a directory", rootfs));
    p.root_readonly = spec.root->readonly;
    p.no_pivot = in.no_pivot;
    p.preserve_fds = in.preserve_fds;

    static const oci::Linux kNoLinux;
    const oci::Linux& lx = spec.linux_ ? *spec.linux_ : kNoLinux;
    check_unsupported_linux(lx);
    plan_namespaces(lx, in, p, clone_flags);
    if (!lx.time_offsets.empty()) {
        if (!p.new_time_ns)
            throw Error(
                "linux.timeOffsets: needs a new time namespace (a linux.namespaces entry of "
                "type \"time\" without a path)");
        p.time_offsets = format_time_offsets(lx.time_offsets);
    }
    unsigned long all_ns = clone_flags;
    for (const auto& j : p.joins) all_ns |= static_cast<unsigned long>(j.nstype);
    if (p.unshare_cgroup_after_join) all_ns |= CLONE_NEWCGROUP;
    if (!lx.net_devices.empty() && !(all_ns & CLONE_NEWNET))
        throw Error(
            "linux.netDevices: moving interfaces needs a network namespace of the container's "
            "own (a linux.namespaces entry of type \"network\")");
    if (!(all_ns & CLONE_NEWNS)) check_without_mount_ns(spec, lx, p.rootfs);

    plan_mounts(spec, in, p.in_user_ns(), (clone_flags & CLONE_NEWNET) != 0,
                all_ns & CLONE_NEWCGROUP, p);
    if (!lx.rootfs_propagation.empty())
        p.root_propagation = parse_propagation(lx.rootfs_propagation);
    p.masked_paths = lx.masked_paths;
    p.readonly_paths = lx.readonly_paths;

    if (spec.hostname && !spec.hostname->empty()) {
        if (!(all_ns & CLONE_NEWUTS))
            throw Error("hostname: setting the hostname needs a private UTS namespace");
        p.set_hostname = true;
        p.hostname = *spec.hostname;
    }
    if (spec.domainname && !spec.domainname->empty()) {
        if (!(all_ns & CLONE_NEWUTS))
            throw Error("domainname: setting the domain name needs a private UTS namespace");
        p.set_domainname = true;
        p.domainname = *spec.domainname;
    }
    for (const auto& [key, value] : lx.sysctl) {
        check_sysctl(key, all_ns);
        std::string path = "/proc/sys/" + key;
        for (size_t i = 10; i < path.size(); ++i)
            if (path[i] == '.') path[i] = '/';
        p.sysctls.emplace_back(path, value);
    }
    if (lx.personality) {
        const auto& d = lx.personality->domain;
        if (d != "LINUX" && d != "LINUX32")
            throw Error(fmt::format("linux.personality.domain: unknown domain \"{}\"", d));
        p.set_personality = true;
        p.personality = d == "LINUX32" ? PER_LINUX32 : PER_LINUX;
    }
    plan_process_attrs(*spec.process, lx.memory_policy ? &*lx.memory_policy : nullptr,
                       /*exec=*/false, p.attrs);
    plan_process_security(*spec.process, lx.seccomp ? &*lx.seccomp : nullptr, in.seccomp_cache_dir,
                          p);
    p.mount_console = true;
    return p;
}

void plan_process_security(const oci::Process& pr, const oci::Seccomp* seccomp,
                           const std::string& cache_dir, Plan& p) {
    if (!pr.apparmor_profile.empty())
        security::refuse_lsm("process.apparmorProfile", pr.apparmor_profile,
                             security::Lsm::apparmor);
    if (!pr.selinux_label.empty())
        security::refuse_lsm("process.selinuxLabel", pr.selinux_label, security::Lsm::selinux);
    plan_process(pr, p);
    p.terminal = pr.terminal;
    if (pr.console_size) {
        p.console_rows = pr.console_size->height;
        p.console_cols = pr.console_size->width;
    }
    if (pr.capabilities) {
        p.set_caps = true;
        p.caps = security::parse_capabilities(*pr.capabilities);
    }
    if (seccomp) {
        p.has_seccomp = true;
        p.seccomp = with_context("linux.seccomp", [&] {
            return security::load_or_compile_seccomp(*seccomp, cache_dir);
        });
    }
    p.finalize();
}

}  // namespace husk::runtime
