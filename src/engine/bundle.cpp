#include "engine/bundle.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include "engine/network.h"
#include "engine/user.h"
#include "runtime/cgroup/layout.h"
#include "runtime/procvirt.h"
#include "runtime/security/capabilities.h"
#include "runtime/security/defaults.h"
#include "runtime/security/seccomp.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/safe_path.h"
#include "sys/text.h"
#include "sys/user_dirs.h"

namespace husk::engine {

namespace {

constexpr const char* kDefaultPath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr const char* kInitTarget = "/sbin/husk-init";

std::string env_key(const std::string& kv) {
    return kv.substr(0, kv.find('='));
}

// Sets KEY=VALUE (or removes KEY for a bare "KEY" the caller has not set), keeping order.
void env_set(std::vector<std::string>& env, const std::string& kv) {
    std::string k = env_key(kv);
    auto it =
        std::find_if(env.begin(), env.end(), [&](const std::string& e) { return env_key(e) == k; });
    if (kv.find('=') == std::string::npos) {
        const char* v = std::getenv(k.c_str());
        if (!v) return;
        return env_set(env, k + "=" + v);
    }
    if (it != env.end())
        *it = kv;
    else
        env.push_back(kv);
}

bool env_has(const std::vector<std::string>& env, const std::string& key) {
    return std::any_of(env.begin(), env.end(),
                       [&](const std::string& e) { return env_key(e) == key; });
}

std::string cap_name_of(std::string name) {
    name = sys::ascii_upper(name);
    if (name != "ALL" && !name.starts_with("CAP_")) name = "CAP_" + name;
    if (name != "ALL" && runtime::security::cap_from_name(name) < 0)
        throw Error(error_format("unknown capability: \"{}\"", name));
    return name;
}

// Every capability we can give: those in our own bounding set (on some hosts even root
// lacks a few, e.g. CAP_SYS_RESOURCE, and capset would fail with EPERM).
std::vector<std::string> all_capabilities() {
    std::vector<std::string> out;
    for (int c = 0; c <= runtime::security::last_cap(); ++c)
        if (::prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
            out.push_back(runtime::security::cap_name(c));
    return out;
}

std::vector<std::string> capabilities(const RunOptions& o) {
    std::vector<std::string> caps =
        o.privileged ? all_capabilities() : runtime::security::default_capabilities();
    for (auto& d : o.cap_drop) {
        std::string n = cap_name_of(d);
        if (n == "ALL")
            caps.clear();
        else
            std::erase(caps, n);
    }
    for (auto& a : o.cap_add) {
        std::string n = cap_name_of(a);
        if (n == "ALL") {
            caps = all_capabilities();
            continue;
        }
        if (std::find(caps.begin(), caps.end(), n) == caps.end()) caps.push_back(n);
    }
    return caps;
}

}  // namespace

// Whether the host's memory controller limits memory+swap (cgroup v1 without swap
// accounting does not); docker only sets its default swap limit where it does.
bool host_swap_limit_supported() {
    try {
        return runtime::cgroup::memory_swap_limit_supported(runtime::cgroup::detect_layout());
    } catch (const Error&) {
        return true;  // no cgroup hierarchy mounted: no v1 memory controller either
    }
}

namespace {

void set_resources(const RunOptions& o, const BundleInputs& in, oci::Linux& l) {
    oci::Resources& r = *l.resources;
    r.memory = memory_resources(
        o, in.swap_limit_supported ? in.swap_limit_supported : host_swap_limit_supported);
    if (o.cpus || o.cpu_shares || !o.cpuset_cpus.empty() || !o.cpuset_mems.empty()) {
        oci::CpuResources c;
        if (o.cpus) {
            c.period = 100000;
            c.quota = std::llround(*o.cpus * 100000);
        }
        if (o.cpu_shares) c.shares = *o.cpu_shares;
        c.cpus = o.cpuset_cpus;
        c.mems = o.cpuset_mems;
        r.cpu = c;
    }
    if (o.pids_limit) r.pids = oci::PidsResources{*o.pids_limit};
    if (o.blkio_weight) {
        if (*o.blkio_weight < 10 || *o.blkio_weight > 1000)
            throw Error("range of blkio weight is from 10 to 1000");
        oci::BlockIoResources b;
        b.weight = *o.blkio_weight;
        r.block_io = b;
    }
    if (o.privileged) r.devices = {oci::DeviceRule{true, "a", std::nullopt, std::nullopt, "rwm"}};
}

// --privileged: every device node of the host's /dev, as docker gives them; not the
// directories of per-instance filesystems, and not the console or ptmx (the container
// has its own).
std::vector<DeviceSpec> host_devices() {
    namespace fs = std::filesystem;
    std::vector<DeviceSpec> out;
    std::error_code ec;
    fs::recursive_directory_iterator it("/dev", fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const fs::path& p = it->path();
        std::string name = p.filename();
        if (it->is_directory(ec) && !it->is_symlink(ec)) {
            static const std::set<std::string> skip = {"pts",  "shm",         "fd",   "mqueue",
                                                       ".lxc", ".lxd-mounts", ".udev"};
            if (skip.count(name)) it.disable_recursion_pending();
            continue;
        }
        if (name == "console" || name == "ptmx" || it->is_symlink(ec)) continue;
        auto st = it->symlink_status(ec);
        if (st.type() == fs::file_type::character || st.type() == fs::file_type::block)
            out.push_back(DeviceSpec{p.string(), p.string(), "rwm"});
    }
    return out;
}

void add_devices(const RunOptions& o, oci::Linux& l) {
    std::vector<DeviceSpec> devices = o.devices;
    if (o.privileged)
        for (auto& d : host_devices())
            if (std::none_of(devices.begin(), devices.end(), [&](const DeviceSpec& x) {
                    return x.container_path == d.container_path;
                }))
                devices.push_back(d);
    for (auto& d : devices) {
        struct stat st {};
        if (::stat(d.host_path.c_str(), &st) != 0)
            throw_sys("error gathering device information while adding custom device", d.host_path);
        if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
            throw Error(error_format("{}: not a device node", d.host_path));
        std::string type = S_ISCHR(st.st_mode) ? "c" : "b";
        oci::Device dev;
        dev.type = type;
        dev.path = d.container_path;
        dev.major = major(st.st_rdev);
        dev.minor = minor(st.st_rdev);
        dev.file_mode = st.st_mode & 07777;
        dev.uid = 0;
        dev.gid = 0;
        l.devices.push_back(dev);
        l.resources->devices.push_back(
            oci::DeviceRule{true, type, dev.major, dev.minor, d.permissions});
    }
}

std::vector<oci::Mount> mounts(const RunOptions& o, const BundleInputs& in) {
    oci::Spec defaults = oci::default_spec(false);
    std::vector<oci::Mount> out;
    for (auto& m : defaults.mounts) {
        if (m.destination == "/dev/shm" && o.shm_size) {
            std::erase_if(m.options, [](const std::string& x) { return x.starts_with("size="); });
            m.options.push_back(fmt::format("size={}k", std::max<int64_t>(*o.shm_size / 1024, 1)));
        }
        if (o.privileged && (m.destination == "/sys" || m.destination == "/sys/fs/cgroup"))
            std::erase(m.options, "ro");
        if (m.destination == "/sys" && o.network == NetworkMode::host && !in.userns) {
            // no network namespace of our own: sysfs cannot be mounted for it, bind the host's
            m = oci::Mount{"/sys", "bind", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"},
                           {},     {}};
        }
        out.push_back(m);
    }
    auto bind = [&](const std::string& src, const std::string& dst, bool ro,
                    const std::vector<std::string>& extra = {}) {
        oci::Mount m{dst, "bind", src, {"rbind", "rprivate"}, {}, {}};
        if (ro) m.options.push_back("ro");
        for (auto& e : extra) m.options.push_back(e);
        out.push_back(std::move(m));
    };
    bind(in.bundle_dir + "/hostname", "/etc/hostname", false);
    bind(in.bundle_dir + "/hosts", "/etc/hosts", false);
    bind(in.bundle_dir + "/resolv.conf", "/etc/resolv.conf", false);
    if (!in.init_path.empty()) bind(in.init_path, kInitTarget, true);
    for (auto& m : o.mounts) {
        if (m.type == "tmpfs") {
            oci::Mount t{m.target, "tmpfs", "tmpfs", {"nosuid", "nodev"}, {}, {}};
            for (auto& x : m.options) t.options.push_back(x);
            if (m.readonly) t.options.push_back("ro");
            std::erase_if(out, [&](const oci::Mount& e) { return e.destination == m.target; });
            out.push_back(std::move(t));
            continue;
        }
        struct stat st {};
        if (::stat(m.source.c_str(), &st) != 0) {
            if (errno != ENOENT || m.must_exist) throw_sys("stat bind mount source", m.source);
            sys::mkdir_all(m.source, 0755);  // docker creates a missing -v host directory
        }
        std::erase_if(out, [&](const oci::Mount& e) { return e.destination == m.target; });
        bind(m.source, m.target, m.readonly, m.options);
    }
    return out;
}

// docker's profile allows some system calls only to containers that have a capability
// beyond the default set: the profile in data/ is resolved for the default set, so the
// calls of every added capability are allowed here (taken out of the rules that
// restrict them).
void allow_calls_of_added_caps(oci::Seccomp& profile, const std::vector<std::string>& caps) {
    static const std::map<std::string, std::vector<std::string>> calls = {
        {"CAP_SYS_ADMIN",
         {"bpf",
          "clone",
          "clone3",
          "fanotify_init",
          "fsconfig",
          "fsmount",
          "fsopen",
          "fspick",
          "lookup_dcookie",
          "mount",
          "mount_setattr",
          "move_mount",
          "name_to_handle_at",
          "open_tree",
          "perf_event_open",
          "quotactl",
          "quotactl_fd",
          "setdomainname",
          "sethostname",
          "setns",
          "syslog",
          "umount",
          "umount2",
          "unshare"}},
        {"CAP_SYS_BOOT", {"reboot"}},
        {"CAP_SYS_MODULE", {"delete_module", "init_module", "finit_module"}},
        {"CAP_SYS_PACCT", {"acct"}},
        {"CAP_SYS_PTRACE", {"kcmp", "pidfd_getfd", "process_madvise"}},
        {"CAP_SYS_RAWIO", {"iopl", "ioperm"}},
        {"CAP_SYS_TIME", {"settimeofday", "stime", "clock_settime", "clock_settime64"}},
        {"CAP_SYS_TTY_CONFIG", {"vhangup"}},
        {"CAP_SYS_NICE", {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}},
        {"CAP_SYSLOG", {"syslog"}},
        {"CAP_BPF", {"bpf"}},
        {"CAP_PERFMON", {"perf_event_open"}},
    };
    std::vector<std::string> allow;
    for (auto& c : caps)
        if (auto it = calls.find(c); it != calls.end())
            for (auto& n : it->second)
                if (std::find(allow.begin(), allow.end(), n) == allow.end()) allow.push_back(n);
    if (allow.empty()) return;
    for (auto& rule : profile.syscalls)
        std::erase_if(rule.names, [&](const std::string& n) {
            return std::find(allow.begin(), allow.end(), n) != allow.end();
        });
    std::erase_if(profile.syscalls, [](const oci::SeccompSyscall& r) { return r.names.empty(); });
    profile.syscalls.push_back(oci::SeccompSyscall{allow, "SCMP_ACT_ALLOW", std::nullopt, {}});
}

// Make the working directory exist, owned by the container's user (docker does).
void ensure_workdir(const BundleInputs& in, const std::string& cwd, uint32_t uid, uint32_t gid) {
    if (cwd == "/" || cwd.empty()) return;
    std::string host_root = in.root_for_host();
    sys::UniqueFd root(::open(host_root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw_sys("open", host_root);
    int fd = sys::open_in_root(root.get(), cwd.c_str(), O_PATH | O_DIRECTORY);
    if (fd >= 0) {
        ::close(fd);
        return;
    }
    fd = sys::mkdir_all_in_root(root.get(), cwd.c_str(), 0755);
    // the path as the container names it: the host path of its root means nothing to the user
    if (fd < 0) throw_sys("create working directory (in the container)", cwd, -fd);
    sys::UniqueFd dir(fd);
    // Rootless, the user may give only its own ids: the directory stays the container
    // root's (the owner docker's SetupWorkingDirectory gives it).
    if (sys::rootless()) return;
    uint32_t host_uid = in.userns ? in.userns->host_uid(uid) : uid;
    uint32_t host_gid = in.userns ? in.userns->host_gid(gid) : gid;
    char buf[64];
    if (::fchownat(AT_FDCWD, sys::fd_path(dir.get(), buf), host_uid, host_gid, 0) != 0)
        throw_sys("chown", in.rootfs + cwd);
}

}  // namespace

ContainerConfig container_config(const RunOptions& o, const oci::image::ImageConfig* image) {
    ContainerConfig c;
    if (o.entrypoint) {
        if (!o.entrypoint->empty()) c.entrypoint.push_back(*o.entrypoint);
    } else if (image) {
        c.entrypoint = image->entrypoint;
    }
    if (!o.command.empty())
        c.cmd = o.command;
    else if (image && !o.entrypoint)  // a new entrypoint drops the image's Cmd, as docker does
        c.cmd = image->cmd;
    if (c.entrypoint.empty() && c.cmd.empty()) throw Error("no command specified");
    if (image) c.env = image->env;
    for (auto& e : o.env) env_set(c.env, e);
    c.user = !o.user.empty() ? o.user : (image ? image->user : "");
    c.working_dir = !o.workdir.empty() ? o.workdir : (image ? image->working_dir : "");
    return c;
}

std::vector<std::string> container_args(const RunOptions& o, const oci::image::ImageConfig* image) {
    ContainerConfig c = container_config(o, image);
    c.entrypoint.insert(c.entrypoint.end(), c.cmd.begin(), c.cmd.end());
    return c.entrypoint;
}

oci::Spec build_spec(const RunOptions& o, const BundleInputs& in) {
    oci::Spec s = oci::default_spec(false);
    s.root = oci::Root{in.rootfs, o.read_only};
    s.hostname = in.hostname;

    oci::Process& p = *s.process;
    p.terminal = o.tty;
    if (o.tty) {
        struct winsize ws {};
        if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
            p.console_size = oci::ConsoleSize{ws.ws_row, ws.ws_col};
    }
    ContainerConfig c = container_config(o, in.image);
    p.args = c.entrypoint;
    p.args.insert(p.args.end(), c.cmd.begin(), c.cmd.end());
    if (!in.init_path.empty()) p.args.insert(p.args.begin(), {kInitTarget, "--"});

    ResolvedUser u = resolve_user(in.root_for_host(), c.user);
    p.user = oci::User{u.uid, u.gid, std::nullopt, u.additional_gids, ""};

    // the container's, with what the process is given besides (docker adds them at start)
    std::vector<std::string> env;
    env.push_back(kDefaultPath);
    env.push_back("HOSTNAME=" + in.hostname);
    for (auto& e : c.env) env_set(env, e);
    if (o.tty && !env_has(env, "TERM")) env.push_back("TERM=xterm");
    if (!env_has(env, "HOME")) env.push_back("HOME=" + u.home);
    p.env = std::move(env);

    p.cwd = c.working_dir.empty() ? "/" : c.working_dir;
    if (p.cwd[0] != '/')
        throw Error(
            fmt::format("the working directory '{}' is invalid, it needs to be an "
                        "absolute path",
                        p.cwd));
    ensure_workdir(in, p.cwd, u.uid, u.gid);

    auto caps = capabilities(o);
    p.capabilities = oci::Capabilities{caps, caps, {}, caps, {}};
    p.rlimits = o.ulimits;
    p.no_new_privileges = o.no_new_privileges;

    s.mounts = mounts(o, in);
    if (!in.root_overlay.empty()) {  // first: the others go on top of it
        oci::Mount root;
        root.destination = "/";
        root.type = root.source = in.root_type;
        root.options = in.root_overlay;
        s.mounts.insert(s.mounts.begin(), std::move(root));
    }

    oci::Linux& l = *s.linux_;
    l.namespaces.clear();
    for (const char* type : {"pid", "ipc", "uts", "mount", "cgroup"})
        l.namespaces.push_back({type, ""});
    if (o.network != NetworkMode::host) l.namespaces.push_back({"network", ""});
    if (in.userns) {
        l.namespaces.push_back({"user", in.userns_join});
        l.uid_mappings = in.userns->uids();
        l.gid_mappings = in.userns->gids();
    }
    l.cgroups_path = "/husk/" + in.id;
    if (o.privileged) {
        l.masked_paths.clear();
        l.readonly_paths.clear();
    } else if (o.seccomp.empty()) {
        l.seccomp = runtime::security::default_seccomp();
        allow_calls_of_added_caps(*l.seccomp, caps);
    } else if (o.seccomp != "unconfined") {
        l.seccomp = with_context("seccomp profile " + o.seccomp, [&] {
            return runtime::security::parse_seccomp_json(sys::read_file(o.seccomp));
        });
    }
    set_resources(o, in, l);
    // On when the container has limits, rootless too (there the limits need a delegated
    // cgroup, and its files are re-rendered after an open rather than before: procvirt.h).
    bool limited = o.memory || o.cpus || !o.cpuset_cpus.empty();
    if (o.proc_virtualize.value_or(limited)) s.annotations[runtime::procvirt::kAnnotation] = "true";
    add_devices(o, l);
    l.sysctl = o.sysctls;

    if (in.image)
        for (auto& [k, v] : in.image->labels) s.annotations[k] = v;
    for (auto& [k, v] : o.labels) s.annotations[k] = v;
    std::string stop =
        !o.stop_signal.empty() ? o.stop_signal : (in.image ? in.image->stop_signal : "");
    if (!stop.empty()) s.annotations["org.opencontainers.image.stopSignal"] = stop;
    return s;
}

void write_bundle(const oci::Spec& spec, const RunOptions& o, const BundleInputs& in) {
    bool host = o.network == NetworkMode::host;
    sys::write_file(in.bundle_dir + "/hostname", in.hostname + "\n", 0644);
    std::string hosts = hosts_file(in.hostname, host);
    hosts += add_host_lines(o.add_hosts, o.network);
    sys::write_file(in.bundle_dir + "/hosts.base", hosts, 0644);  // the bridge adds the address
    sys::write_file(in.bundle_dir + "/hosts", hosts, 0644);
    std::vector<std::string> servers = o.dns;
    if (!in.nameserver.empty()) servers = {in.nameserver};
    sys::write_file(in.bundle_dir + "/resolv.conf",
                    with_dns(resolv_conf(host), servers, o.dns_search, o.dns_options), 0644);
    std::string config = oci::dump_spec(spec);
    // What husk-runtime would refuse at start (a NUL in an image's Cmd, say) is refused
    // now, before `husk create` reports a container that can never start.
    (void)oci::parse_spec(config);
    sys::write_file_atomic(in.bundle_dir + "/config.json", config, 0600);
}

}  // namespace husk::engine
