// The OCI runtime specification (config.json), versions 1.0 through 1.3, as
// typed structs. Parsing validates every field and names the JSON path of the
// first bad one; absent optional fields stay std::nullopt / empty.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace husk::oci {

struct IdMapping {
    uint32_t container_id = 0;  // containerID
    uint32_t host_id = 0;       // hostID
    uint32_t size = 0;
};

struct Mount {
    std::string destination;
    std::string type;    // may be empty (then "bind" when options say so)
    std::string source;  // may be empty
    std::vector<std::string> options;
    std::vector<IdMapping> uid_mappings;  // idmapped mounts (1.2)
    std::vector<IdMapping> gid_mappings;
};

struct Root {
    std::string path;
    bool readonly = false;
};

struct ConsoleSize {
    uint32_t height = 0;
    uint32_t width = 0;
};

struct User {
    uint32_t uid = 0;
    uint32_t gid = 0;
    std::optional<uint32_t> umask;
    std::vector<uint32_t> additional_gids;
    std::string username;
};

struct Capabilities {
    std::vector<std::string> bounding, effective, inheritable, permitted, ambient;
};

struct Rlimit {
    std::string type;  // "RLIMIT_NOFILE"
    uint64_t hard = 0;
    uint64_t soft = 0;
};

struct Scheduler {
    std::string policy;  // SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_ISO, SCHED_IDLE,
                         // SCHED_DEADLINE
    int32_t nice = 0;
    int32_t priority = 0;
    std::vector<std::string> flags;
    uint64_t runtime = 0, deadline = 0, period = 0;
};

struct IoPriority {
    std::string io_class;  // "class": IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE
    int32_t priority = 0;
};

struct CpuAffinity {
    std::string initial;  // cpu list such as "0-3,7"
    std::string final_;   // "final"
};

struct Process {
    bool terminal = false;
    std::optional<ConsoleSize> console_size;
    User user;
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string cwd = "/";
    std::optional<Capabilities> capabilities;
    std::vector<Rlimit> rlimits;
    bool no_new_privileges = false;
    std::string apparmor_profile;
    std::optional<int> oom_score_adj;
    std::string selinux_label;
    std::optional<Scheduler> scheduler;
    std::optional<IoPriority> io_priority;
    std::optional<CpuAffinity> exec_cpu_affinity;
};

struct Hook {
    std::string path;
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::optional<int> timeout;  // seconds, > 0
};

struct Hooks {
    std::vector<Hook> prestart;  // deprecated, still run (after createRuntime's moment)
    std::vector<Hook> create_runtime;
    std::vector<Hook> create_container;
    std::vector<Hook> start_container;
    std::vector<Hook> poststart;
    std::vector<Hook> poststop;
};

struct Namespace {
    std::string type;  // pid network mount ipc uts user cgroup time
    std::string path;  // join instead of create when set
};

struct Device {
    std::string type;  // c, b, u, p
    std::string path;
    int64_t major = 0;
    int64_t minor = 0;
    std::optional<uint32_t> file_mode;
    std::optional<uint32_t> uid;
    std::optional<uint32_t> gid;
};

// ---- linux.resources ------------------------------------------------------

struct DeviceRule {  // linux.resources.devices[]
    bool allow = false;
    std::string type;  // "a", "c", "b"; empty = all
    std::optional<int64_t> major;
    std::optional<int64_t> minor;
    std::string access;  // subset of "rwm"; empty = all
};

struct MemoryResources {
    std::optional<int64_t> limit, reservation, swap, kernel, kernel_tcp;
    std::optional<uint64_t> swappiness;
    std::optional<bool> disable_oom_killer, use_hierarchy, check_before_update;
};

struct CpuResources {
    std::optional<uint64_t> shares;
    std::optional<int64_t> quota;
    std::optional<uint64_t> burst;
    std::optional<uint64_t> period;
    std::optional<int64_t> realtime_runtime;
    std::optional<uint64_t> realtime_period;
    std::string cpus;
    std::string mems;
    std::optional<int64_t> idle;
};

struct PidsResources {
    int64_t limit = 0;  // <= 0: unlimited
};

struct WeightDevice {
    int64_t major = 0, minor = 0;
    std::optional<uint16_t> weight, leaf_weight;
};

struct ThrottleDevice {
    int64_t major = 0, minor = 0;
    uint64_t rate = 0;
};

struct BlockIoResources {
    std::optional<uint16_t> weight, leaf_weight;
    std::vector<WeightDevice> weight_device;
    std::vector<ThrottleDevice> throttle_read_bps_device, throttle_write_bps_device,
        throttle_read_iops_device, throttle_write_iops_device;
};

struct HugepageLimit {
    std::string page_size;  // "2MB", "1GB"
    uint64_t limit = 0;
};

struct NetPriority {
    std::string name;
    uint32_t priority = 0;
};

struct NetworkResources {
    std::optional<uint32_t> class_id;
    std::vector<NetPriority> priorities;
};

struct RdmaLimit {
    std::optional<uint32_t> hca_handles, hca_objects;
};

struct Resources {
    std::vector<DeviceRule> devices;
    std::optional<MemoryResources> memory;
    std::optional<CpuResources> cpu;
    std::optional<PidsResources> pids;
    std::optional<BlockIoResources> block_io;
    std::vector<HugepageLimit> hugepage_limits;
    std::optional<NetworkResources> network;
    std::map<std::string, RdmaLimit> rdma;
    std::map<std::string, std::string> unified;
};

// ---- linux.seccomp --------------------------------------------------------

struct SeccompArg {
    uint32_t index = 0;
    uint64_t value = 0;
    uint64_t value_two = 0;
    std::string op;  // SCMP_CMP_NE, _LT, _LE, _EQ, _GE, _GT, _MASKED_EQ
};

struct SeccompSyscall {
    std::vector<std::string> names;
    std::string action;  // SCMP_ACT_*
    std::optional<uint32_t> errno_ret;
    std::vector<SeccompArg> args;
};

struct Seccomp {
    std::string default_action;
    std::optional<uint32_t> default_errno_ret;
    std::vector<std::string> architectures;  // SCMP_ARCH_*
    std::vector<std::string> flags;          // SECCOMP_FILTER_FLAG_*
    std::string listener_path;
    std::string listener_metadata;
    std::vector<SeccompSyscall> syscalls;
};

// ---- the rest of linux ----------------------------------------------------

struct TimeOffset {
    int64_t secs = 0;
    uint32_t nanosecs = 0;
};

struct Personality {
    std::string domain;  // LINUX, LINUX32
    std::vector<std::string> flags;
};

struct IntelRdt {
    std::string clos_id;
    std::string l3_cache_schema;
    std::string mem_bw_schema;
    std::vector<std::string> schemata;
    bool enable_cmt = false;
    bool enable_mbm = false;
    bool enable_monitoring = false;  // "enableMonitoring" (1.3)
};

struct MemoryPolicy {
    std::string mode;   // MPOL_DEFAULT, MPOL_BIND, ...
    std::string nodes;  // "0-3"
    std::vector<std::string> flags;
};

struct NetDevice {
    std::string name;  // name inside the container; empty = keep
};

struct Linux {
    std::vector<Namespace> namespaces;
    std::vector<IdMapping> uid_mappings;
    std::vector<IdMapping> gid_mappings;
    std::map<std::string, TimeOffset> time_offsets;  // "monotonic", "boottime"
    std::vector<Device> devices;
    std::map<std::string, NetDevice> net_devices;  // host name -> device
    std::string cgroups_path;
    std::optional<Resources> resources;
    std::string rootfs_propagation;  // shared, slave, private, unbindable, rshared, ...
    std::optional<Seccomp> seccomp;
    std::map<std::string, std::string> sysctl;
    std::vector<std::string> masked_paths;
    std::vector<std::string> readonly_paths;
    std::string mount_label;
    std::optional<Personality> personality;
    std::optional<IntelRdt> intel_rdt;
    std::optional<MemoryPolicy> memory_policy;

    // The namespace of `type`, or nullptr when the config does not list it.
    const Namespace* find_namespace(const std::string& type) const {
        for (const auto& n : namespaces)
            if (n.type == type) return &n;
        return nullptr;
    }
};

// The kernel's limit on a hostname or domain name (__NEW_UTS_LEN): sethostname refuses
// more with EINVAL.
inline constexpr size_t kUtsNameMax = 64;

struct Spec {
    std::string oci_version;
    std::optional<Process> process;
    std::optional<Root> root;
    std::optional<std::string> hostname;    // at most kUtsNameMax bytes
    std::optional<std::string> domainname;  // at most kUtsNameMax bytes
    std::vector<Mount> mounts;
    std::optional<Hooks> hooks;
    std::map<std::string, std::string> annotations;
    std::optional<Linux> linux_;  // "linux" (a macro name in GNU C++ mode)
};

// Parse and validate config.json text. Throws husk::Error naming the JSON path:
//   "linux.resources.memory.limit: expected integer, got string"
Spec parse_spec(const std::string& json_text);
// Read `path` and parse it; errors start with the path.
Spec load_spec(const std::string& path);
// Parse a process.json (exec --process): the same rules as "process".
Process parse_process(const std::string& json_text);
// config.json text (2-space indented), the inverse of parse_spec.
std::string dump_spec(const Spec& spec);
// The config `husk-runtime spec` writes: runc's default (busybox-style `sh`,
// default mounts, masked paths, capabilities); rootless adds a user namespace.
Spec default_spec(bool rootless);

}  // namespace husk::oci
