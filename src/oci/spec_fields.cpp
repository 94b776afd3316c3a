// config.json <-> Spec: one table per struct, read by parse_spec and written by
// dump_spec (see fields.h). A table lists the members in the order runc writes them,
// with Go's tag (omitempty, always, required) and the rule a value must follow; a
// struct whose rules span members has a validate() next to its table.
#include <sys/stat.h>

#include <cctype>
#include <set>

#include "oci/fields.h"
#include "oci/parse_parts.h"

namespace husk::oci::detail {

namespace {

// ---- rules ----------------------------------------------------------------

// A name (or each name of a list) from one of the spec's lists: "unknown <what> "x"".
struct Names {
    NameList (*list)();
    std::string_view what;
    void operator()(const std::string& v, const std::string& path) const {
        check_name(list(), v, path, what);
    }
    void operator()(const std::vector<std::string>& v, const std::string& path) const {
        for (size_t i = 0; i < v.size(); ++i) check_name(list(), v[i], at_index(path, i), what);
    }
};

struct Absolute {
    void operator()(const std::string& v, const std::string& path) const {
        check_absolute(v, path);
    }
    void operator()(const std::vector<std::string>& v, const std::string& path) const {
        for (size_t i = 0; i < v.size(); ++i) check_absolute(v[i], at_index(path, i));
    }
};

// An absolute path, or empty (not set).
struct AbsoluteIfSet {
    void operator()(const std::string& v, const std::string& path) const {
        if (!v.empty()) check_absolute(v, path);
    }
};

// A cpu or node list, or empty.
struct CpuList {
    void operator()(const std::string& v, const std::string& path) const {
        if (!v.empty()) check_cpu_list(v, path);
    }
};

struct Range {
    int64_t lo, hi;
    template <class V>
    void operator()(V v, const std::string& path) const {
        auto n = static_cast<int64_t>(v);
        if (n < lo || n > hi) fail(path, "{} is out of range {}..{}", v, lo, hi);
    }
};

// KEY=VALUE strings with a name.
struct Env {
    void operator()(const std::vector<std::string>& env, const std::string& path) const {
        for (size_t i = 0; i < env.size(); ++i) {
            auto eq = env[i].find('=');
            if (eq == std::string::npos)
                fail(at_index(path, i), "\"{}\" is not in KEY=VALUE form", env[i]);
            if (eq == 0) fail(at_index(path, i), "\"{}\" has an empty name", env[i]);
        }
    }
};

// No two elements with the same `type` (rlimits, namespaces).
struct UniqueType {
    std::string_view what;
    template <class T>
    void operator()(const std::vector<T>& v, const std::string& path) const {
        std::set<std::string> seen;
        for (size_t i = 0; i < v.size(); ++i)
            if (!seen.insert(v[i].type).second)
                fail(child(at_index(path, i), "type"), "duplicate {} \"{}\"", what, v[i].type);
    }
};

// The kernel's dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or whitespace.
void check_netdev_name(const std::string& name, const std::string& path) {
    bool ok = !name.empty() && name.size() < 16 && name != "." && name != "..";
    for (char c : name)
        if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c))) ok = false;
    if (!ok) fail(path, "invalid network device name \"{}\"", name);
}

// The keys of a map, each checked by `check(key, path)`.
template <class T, class Check>
void each_key(const std::map<std::string, T>& m, const std::string& path, Check check) {
    for (const auto& [k, v] : m) check(k, at_key(path, k));
}

}  // namespace

// ---- process --------------------------------------------------------------

auto fields(Type<ConsoleSize>) {
    return std::tuple{field("height", &ConsoleSize::height, kAlways),
                      field("width", &ConsoleSize::width, kAlways)};
}

auto fields(Type<User>) {
    return std::tuple{field("uid", &User::uid, kAlways), field("gid", &User::gid, kAlways),
                      field("umask", &User::umask, kOmitEmpty,
                            [](uint32_t m, const std::string& path) {
                                if (m > 0777)
                                    fail(path, "{:#o} is not a file mode mask (max 0777)", m);
                            }),
                      field("additionalGids", &User::additional_gids),
                      field("username", &User::username)};
}

auto fields(Type<Capabilities>) {
    constexpr Names cap{capability_names, "capability"};
    return std::tuple{field("bounding", &Capabilities::bounding, kOmitEmpty, cap),
                      field("effective", &Capabilities::effective, kOmitEmpty, cap),
                      field("inheritable", &Capabilities::inheritable, kOmitEmpty, cap),
                      field("permitted", &Capabilities::permitted, kOmitEmpty, cap),
                      field("ambient", &Capabilities::ambient, kOmitEmpty, cap)};
}

auto fields(Type<Rlimit>) {
    return std::tuple{field("type", &Rlimit::type, kRequired, Names{rlimit_names, "rlimit type"}),
                      field("hard", &Rlimit::hard, kAlways), field("soft", &Rlimit::soft, kAlways)};
}
void validate(const Obj& o, const Rlimit& r) {
    if (r.soft > r.hard) fail(o.path(), "soft limit {} is above hard limit {}", r.soft, r.hard);
}

auto fields(Type<Scheduler>) {
    return std::tuple{
        field("policy", &Scheduler::policy, kRequired,
              Names{scheduler_policies, "scheduler policy"}),
        field("nice", &Scheduler::nice, kOmitEmpty, Range{-20, 19}),
        field("priority", &Scheduler::priority),
        field("flags", &Scheduler::flags, kOmitEmpty, Names{scheduler_flags, "scheduler flag"}),
        field("runtime", &Scheduler::runtime),
        field("deadline", &Scheduler::deadline),
        field("period", &Scheduler::period)};
}

auto fields(Type<IoPriority>) {
    return std::tuple{
        field("class", &IoPriority::io_class, kRequired, Names{ioprio_classes, "ioPriority class"}),
        field("priority", &IoPriority::priority, kAlways, Range{0, 7})};
}

auto fields(Type<CpuAffinity>) {
    return std::tuple{field("initial", &CpuAffinity::initial, kOmitEmpty, CpuList{}),
                      field("final", &CpuAffinity::final_, kOmitEmpty, CpuList{})};
}

auto fields(Type<Process>) {
    return std::tuple{field("terminal", &Process::terminal),
                      field("consoleSize", &Process::console_size),
                      field("user", &Process::user, kAlways),
                      field("args", &Process::args),
                      field("env", &Process::env, kOmitEmpty, Env{}),
                      field("cwd", &Process::cwd, kAlways, Absolute{}),
                      field("capabilities", &Process::capabilities),
                      field("rlimits", &Process::rlimits, kOmitEmpty, UniqueType{"rlimit type"}),
                      field("noNewPrivileges", &Process::no_new_privileges),
                      field("apparmorProfile", &Process::apparmor_profile),
                      field("oomScoreAdj", &Process::oom_score_adj, kOmitEmpty, Range{-1000, 1000}),
                      field("scheduler", &Process::scheduler),
                      field("selinuxLabel", &Process::selinux_label),
                      field("ioPriority", &Process::io_priority),
                      field("execCPUAffinity", &Process::exec_cpu_affinity)};
}
void validate(const Obj& o, const Process& p) {
    if (p.args.empty()) fail(o.path("args"), "required (the program to run)");
}

// ---- root, mounts, hooks --------------------------------------------------

auto fields(Type<Root>) {
    return std::tuple{field("path", &Root::path, kRequired,
                            [](const std::string& v, const std::string& path) {
                                if (v.empty()) fail(path, "must not be empty");
                            }),
                      field("readonly", &Root::readonly)};
}

auto fields(Type<IdMapping>) {
    return std::tuple{field("containerID", &IdMapping::container_id, kAlways),
                      field("hostID", &IdMapping::host_id, kAlways),
                      field("size", &IdMapping::size, kAlways)};
}

auto fields(Type<Mount>) {
    return std::tuple{field("destination", &Mount::destination, kRequired, Absolute{}),
                      field("type", &Mount::type),
                      field("source", &Mount::source),
                      field("options", &Mount::options),
                      field("uidMappings", &Mount::uid_mappings),
                      field("gidMappings", &Mount::gid_mappings)};
}

auto fields(Type<Hook>) {
    return std::tuple{
        field("path", &Hook::path, kRequired, Absolute{}), field("args", &Hook::args),
        field("env", &Hook::env, kOmitEmpty, Env{}),
        field("timeout", &Hook::timeout, kOmitEmpty, [](int t, const std::string& path) {
            if (t <= 0) fail(path, "must be > 0, got {}", t);
        })};
}

auto fields(Type<Hooks>) {
    return std::tuple{field("prestart", &Hooks::prestart),
                      field("createRuntime", &Hooks::create_runtime),
                      field("createContainer", &Hooks::create_container),
                      field("startContainer", &Hooks::start_container),
                      field("poststart", &Hooks::poststart),
                      field("poststop", &Hooks::poststop)};
}

// ---- linux.resources ------------------------------------------------------

auto fields(Type<DeviceRule>) {
    return std::tuple{field("allow", &DeviceRule::allow, kAlways),
                      field("type", &DeviceRule::type, kOmitEmpty,
                            [](const std::string& t, const std::string& path) {
                                if (!t.empty() && t != "a" && t != "b" && t != "c")
                                    fail(path, "unknown device type \"{}\" (want a, b or c)", t);
                            }),
                      field("major", &DeviceRule::major), field("minor", &DeviceRule::minor),
                      field("access", &DeviceRule::access, kOmitEmpty,
                            [](const std::string& a, const std::string& path) {
                                if (a.find_first_not_of("rwm") != std::string::npos)
                                    fail(path, "invalid access \"{}\" (want letters of rwm)", a);
                            })};
}

auto fields(Type<MemoryResources>) {
    using M = MemoryResources;
    return std::tuple{field("limit", &M::limit),
                      field("reservation", &M::reservation),
                      field("swap", &M::swap),
                      field("kernel", &M::kernel),
                      field("kernelTCP", &M::kernel_tcp),
                      field("swappiness", &M::swappiness),
                      field("disableOOMKiller", &M::disable_oom_killer),
                      field("useHierarchy", &M::use_hierarchy),
                      field("checkBeforeUpdate", &M::check_before_update)};
}

auto fields(Type<CpuResources>) {
    using C = CpuResources;
    return std::tuple{field("shares", &C::shares),
                      field("quota", &C::quota),
                      field("burst", &C::burst),
                      field("period", &C::period),
                      field("realtimeRuntime", &C::realtime_runtime),
                      field("realtimePeriod", &C::realtime_period),
                      field("cpus", &C::cpus, kOmitEmpty, CpuList{}),
                      field("mems", &C::mems, kOmitEmpty, CpuList{}),
                      field("idle", &C::idle)};
}

auto fields(Type<PidsResources>) {
    return std::tuple{field("limit", &PidsResources::limit, kAlways)};
}

auto fields(Type<WeightDevice>) {
    return std::tuple{field("major", &WeightDevice::major, kAlways),
                      field("minor", &WeightDevice::minor, kAlways),
                      field("weight", &WeightDevice::weight),
                      field("leafWeight", &WeightDevice::leaf_weight)};
}

auto fields(Type<ThrottleDevice>) {
    return std::tuple{field("major", &ThrottleDevice::major, kAlways),
                      field("minor", &ThrottleDevice::minor, kAlways),
                      field("rate", &ThrottleDevice::rate, kAlways)};
}

auto fields(Type<BlockIoResources>) {
    using B = BlockIoResources;
    return std::tuple{field("weight", &B::weight),
                      field("leafWeight", &B::leaf_weight),
                      field("weightDevice", &B::weight_device),
                      field("throttleReadBpsDevice", &B::throttle_read_bps_device),
                      field("throttleWriteBpsDevice", &B::throttle_write_bps_device),
                      field("throttleReadIOPSDevice", &B::throttle_read_iops_device),
                      field("throttleWriteIOPSDevice", &B::throttle_write_iops_device)};
}

auto fields(Type<HugepageLimit>) {
    return std::tuple{field("pageSize", &HugepageLimit::page_size, kRequired),
                      field("limit", &HugepageLimit::limit, kAlways)};
}

auto fields(Type<NetPriority>) {
    return std::tuple{field("name", &NetPriority::name, kRequired),
                      field("priority", &NetPriority::priority, kAlways)};
}

auto fields(Type<NetworkResources>) {
    return std::tuple{field("classID", &NetworkResources::class_id),
                      field("priorities", &NetworkResources::priorities)};
}

auto fields(Type<RdmaLimit>) {
    return std::tuple{field("hcaHandles", &RdmaLimit::hca_handles),
                      field("hcaObjects", &RdmaLimit::hca_objects)};
}

auto fields(Type<Resources>) {
    return std::tuple{field("devices", &Resources::devices),
                      field("memory", &Resources::memory),
                      field("cpu", &Resources::cpu),
                      field("pids", &Resources::pids),
                      field("blockIO", &Resources::block_io),
                      field("hugepageLimits", &Resources::hugepage_limits),
                      field("network", &Resources::network),
                      field("rdma", &Resources::rdma),
                      field("unified", &Resources::unified)};
}

// ---- linux.seccomp --------------------------------------------------------

auto fields(Type<SeccompArg>) {
    return std::tuple{
        field("index", &SeccompArg::index, kRequired, Range{0, 5}),
        field("value", &SeccompArg::value, kAlways), field("valueTwo", &SeccompArg::value_two),
        field("op", &SeccompArg::op, kRequired, Names{seccomp_operators, "seccomp operator"})};
}

auto fields(Type<SeccompSyscall>) {
    return std::tuple{field("names", &SeccompSyscall::names, kAlways),
                      field("action", &SeccompSyscall::action, kRequired,
                            Names{seccomp_actions, "seccomp action"}),
                      field("errnoRet", &SeccompSyscall::errno_ret),
                      field("args", &SeccompSyscall::args)};
}
void validate(const Obj& o, const SeccompSyscall& s) {
    if (s.names.empty()) fail(o.path("names"), "required (at least one syscall name)");
}

auto fields(Type<Seccomp>) {
    return std::tuple{
        field("defaultAction", &Seccomp::default_action, kRequired,
              Names{seccomp_actions, "seccomp action"}),
        field("defaultErrnoRet", &Seccomp::default_errno_ret),
        field("architectures", &Seccomp::architectures, kOmitEmpty,
              Names{seccomp_archs, "seccomp architecture"}),
        field("flags", &Seccomp::flags, kOmitEmpty, Names{seccomp_flags, "seccomp flag"}),
        field("listenerPath", &Seccomp::listener_path, kOmitEmpty, AbsoluteIfSet{}),
        field("listenerMetadata", &Seccomp::listener_metadata),
        field("syscalls", &Seccomp::syscalls)};
}
void validate(const Obj& o, const Seccomp& s) {
    bool notify = s.default_action == "SCMP_ACT_NOTIFY";
    for (const auto& sc : s.syscalls) notify = notify || sc.action == "SCMP_ACT_NOTIFY";
    if (notify && s.listener_path.empty())
        fail(o.path("listenerPath"), "required when an action is SCMP_ACT_NOTIFY");
}

// ---- the rest of linux ----------------------------------------------------

auto fields(Type<Namespace>) {
    return std::tuple{
        field("type", &Namespace::type, kRequired, Names{namespace_types, "namespace type"}),
        field("path", &Namespace::path, kOmitEmpty, AbsoluteIfSet{})};
}

auto fields(Type<Device>) {
    return std::tuple{field("path", &Device::path, kRequired, Absolute{}),
                      field("type", &Device::type, kRequired,
                            [](const std::string& t, const std::string& path) {
                                if (t != "c" && t != "b" && t != "u" && t != "p")
                                    fail(path, "unknown device type \"{}\" (want c, b, u or p)", t);
                            }),
                      field("major", &Device::major, kAlways),
                      field("minor", &Device::minor, kAlways),
                      // podman passes the file-type bits too (020666 for a character device), as
                      // stat's st_mode has them: accepted, and only the permission bits are used
                      // (the type is `type`'s), as runc.
                      field("fileMode", &Device::file_mode, kOmitEmpty,
                            [](uint32_t m, const std::string& path) {
                                if ((m & ~(S_IFMT | 07777U)) != 0)
                                    fail(path, "{:#o} is not a file mode (max 0177777)", m);
                            }),
                      field("uid", &Device::uid), field("gid", &Device::gid)};
}
void validate(const Obj& o, const Device& d) {
    if (d.type == "p") return;
    for (auto key : {"major", "minor"})
        if (!o.has(key)) fail(o.path(key), "required for device type {}", d.type);
}

auto fields(Type<NetDevice>) {
    return std::tuple{field("name", &NetDevice::name, kOmitEmpty,
                            [](const std::string& name, const std::string& path) {
                                if (!name.empty()) check_netdev_name(name, path);
                            })};
}

auto fields(Type<TimeOffset>) {
    return std::tuple{
        field("secs", &TimeOffset::secs, kAlways),
        field("nanosecs", &TimeOffset::nanosecs, kAlways, [](uint32_t ns, const std::string& path) {
            if (ns >= 1'000'000'000u) fail(path, "{} is not below 1000000000", ns);
        })};
}

auto fields(Type<Personality>) {
    return std::tuple{field("domain", &Personality::domain, kRequired,
                            Names{personality_domains, "personality domain"}),
                      field("flags", &Personality::flags)};
}

auto fields(Type<IntelRdt>) {
    return std::tuple{field("closID", &IntelRdt::clos_id),
                      field("l3CacheSchema", &IntelRdt::l3_cache_schema),
                      field("memBwSchema", &IntelRdt::mem_bw_schema),
                      field("schemata", &IntelRdt::schemata),
                      field("enableCMT", &IntelRdt::enable_cmt),
                      field("enableMBM", &IntelRdt::enable_mbm),
                      field("enableMonitoring", &IntelRdt::enable_monitoring)};
}

auto fields(Type<MemoryPolicy>) {
    return std::tuple{field("mode", &MemoryPolicy::mode, kRequired,
                            Names{memory_policy_modes, "memory policy mode"}),
                      field("nodes", &MemoryPolicy::nodes, kOmitEmpty, CpuList{}),
                      field("flags", &MemoryPolicy::flags, kOmitEmpty,
                            Names{memory_policy_flags, "memory policy flag"})};
}

auto fields(Type<Linux>) {
    return std::tuple{
        field("uidMappings", &Linux::uid_mappings),
        field("gidMappings", &Linux::gid_mappings),
        field("sysctl", &Linux::sysctl),
        field("resources", &Linux::resources),
        field("cgroupsPath", &Linux::cgroups_path),
        field("namespaces", &Linux::namespaces, kOmitEmpty, UniqueType{"namespace type"}),
        field("devices", &Linux::devices),
        field("netDevices", &Linux::net_devices, kOmitEmpty,
              [](const std::map<std::string, NetDevice>& m, const std::string& path) {
                  each_key(m, path, check_netdev_name);
              }),
        field("seccomp", &Linux::seccomp),
        field("rootfsPropagation", &Linux::rootfs_propagation, kOmitEmpty,
              [](const std::string& v, const std::string& path) {
                  if (!v.empty()) check_name(rootfs_propagations(), v, path, "rootfs propagation");
              }),
        field("maskedPaths", &Linux::masked_paths, kOmitEmpty, Absolute{}),
        field("readonlyPaths", &Linux::readonly_paths, kOmitEmpty, Absolute{}),
        field("mountLabel", &Linux::mount_label),
        field("intelRdt", &Linux::intel_rdt),
        field("memoryPolicy", &Linux::memory_policy),
        field("personality", &Linux::personality),
        field("timeOffsets", &Linux::time_offsets, kOmitEmpty,
              [](const std::map<std::string, TimeOffset>& m, const std::string& path) {
                  each_key(m, path, [](const std::string& clock, const std::string& at) {
                      if (clock != "monotonic" && clock != "boottime")
                          fail(at, "unknown clock \"{}\" (want monotonic or boottime)", clock);
                  });
              })};
}

// ---- the top level --------------------------------------------------------

auto fields(Type<Spec>) {
    auto uts_name = [](const std::string& v, const std::string& path) {
        if (v.size() > kUtsNameMax)
            fail(path, "\"{}\" is longer than the kernel's {} bytes", v, kUtsNameMax);
    };
    return std::tuple{field("ociVersion", &Spec::oci_version, kRequired,
                            [](const std::string& v, const std::string& path) {
                                // "1.0.0", "1.0.2-dev", "1.2.0", "1.3.0"; a 2.x config
                                // is not ours to guess at.
                                if (v.size() < 3 || v[0] != '1' || v[1] != '.' ||
                                    !std::isdigit(static_cast<unsigned char>(v[2])))
                                    fail(path, "unsupported version \"{}\" (want 1.x)", v);
                            }),
                      field("process", &Spec::process),
                      field("root", &Spec::root),
                      field("hostname", &Spec::hostname, kOmitEmpty, uts_name),
                      field("domainname", &Spec::domainname, kOmitEmpty, uts_name),
                      field("mounts", &Spec::mounts),
                      field("hooks", &Spec::hooks),
                      field("annotations", &Spec::annotations),
                      field("linux", &Spec::linux_)};
}

}  // namespace husk::oci::detail

namespace husk::oci {

using namespace detail;

Spec parse_spec(const std::string& json_text) {
    json doc = parse_json(json_text);
    return read_struct<Spec>(Obj(doc, ""));
}

Process parse_process(const std::string& json_text) {
    json doc = parse_json(json_text);
    return read_struct<Process>(Obj(doc, ""));
}

std::string dump_spec(const Spec& spec) {
    return write_struct(spec).dump(2) + "\n";
}

}  // namespace husk::oci
