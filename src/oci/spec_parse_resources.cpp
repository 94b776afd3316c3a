// config.json "linux.resources" and "linux.seccomp".
#include "oci/parse_parts.h"

namespace husk::oci::detail {

namespace {

std::vector<DeviceRule> parse_device_rules(const Obj& o) {
    std::vector<DeviceRule> out;
    o.each("devices", [&](const json& e, const std::string& p) {
        Obj d(e, p);
        DeviceRule r;
        r.allow = d.boolean("allow");
        r.type = d.str("type");
        if (!r.type.empty() && r.type != "a" && r.type != "b" && r.type != "c")
            fail(d.path("type"), "unknown device type \"{}\" (want a, b or c)", r.type);
        r.major = d.opt_int<int64_t>("major");
        r.minor = d.opt_int<int64_t>("minor");
        r.access = d.str("access");
        if (r.access.find_first_not_of("rwm") != std::string::npos)
            fail(d.path("access"), "invalid access \"{}\" (want letters of rwm)", r.access);
        out.push_back(std::move(r));
    });
    return out;
}

MemoryResources parse_memory(const Obj& o) {
    MemoryResources m;
    m.limit = o.opt_int<int64_t>("limit");
    m.reservation = o.opt_int<int64_t>("reservation");
    m.swap = o.opt_int<int64_t>("swap");
    m.kernel = o.opt_int<int64_t>("kernel");
    m.kernel_tcp = o.opt_int<int64_t>("kernelTCP");
    m.swappiness = o.opt_int<uint64_t>("swappiness");
    m.disable_oom_killer = o.opt_bool("disableOOMKiller");
    m.use_hierarchy = o.opt_bool("useHierarchy");
    m.check_before_update = o.opt_bool("checkBeforeUpdate");
    return m;
}

CpuResources parse_cpu(const Obj& o) {
    CpuResources c;
    c.shares = o.opt_int<uint64_t>("shares");
    c.quota = o.opt_int<int64_t>("quota");
    c.burst = o.opt_int<uint64_t>("burst");
    c.period = o.opt_int<uint64_t>("period");
    c.realtime_runtime = o.opt_int<int64_t>("realtimeRuntime");
    c.realtime_period = o.opt_int<uint64_t>("realtimePeriod");
    c.cpus = o.str("cpus");
    if (!c.cpus.empty()) check_cpu_list(c.cpus, o.path("cpus"));
    c.mems = o.str("mems");
    if (!c.mems.empty()) check_cpu_list(c.mems, o.path("mems"));
    c.idle = o.opt_int<int64_t>("idle");
    return c;
}

std::vector<ThrottleDevice> parse_throttle(const Obj& o, std::string_view key) {
    std::vector<ThrottleDevice> out;
    o.each(key, [&](const json& e, const std::string& p) {
        Obj d(e, p);
        out.push_back(ThrottleDevice{d.int_or<int64_t>("major", 0), d.int_or<int64_t>("minor", 0),
                                     d.int_or<uint64_t>("rate", 0)});
    });
    return out;
}

BlockIoResources parse_block_io(const Obj& o) {
    BlockIoResources b;
    b.weight = o.opt_int<uint16_t>("weight");
    b.leaf_weight = o.opt_int<uint16_t>("leafWeight");
    o.each("weightDevice", [&](const json& e, const std::string& p) {
        Obj d(e, p);
        b.weight_device.push_back(
            WeightDevice{d.int_or<int64_t>("major", 0), d.int_or<int64_t>("minor", 0),
                         d.opt_int<uint16_t>("weight"), d.opt_int<uint16_t>("leafWeight")});
    });
    b.throttle_read_bps_device = parse_throttle(o, "throttleReadBpsDevice");
    b.throttle_write_bps_device = parse_throttle(o, "throttleWriteBpsDevice");
    b.throttle_read_iops_device = parse_throttle(o, "throttleReadIOPSDevice");
    b.throttle_write_iops_device = parse_throttle(o, "throttleWriteIOPSDevice");
    return b;
}

NetworkResources parse_network(const Obj& o) {
    NetworkResources n;
    n.class_id = o.opt_int<uint32_t>("classID");
    o.each("priorities", [&](const json& e, const std::string& p) {
        Obj d(e, p);
        n.priorities.push_back(
            NetPriority{d.required_str("name"), d.int_or<uint32_t>("priority", 0)});
    });
    return n;
}

SeccompSyscall parse_syscall(const Obj& o) {
    SeccompSyscall s;
    s.names = o.str_list("names");
    if (s.names.empty()) fail(o.path("names"), "required (at least one syscall name)");
    s.action = required_name(o, "action", seccomp_actions(), "seccomp action");
    s.errno_ret = o.opt_int<uint32_t>("errnoRet");
    o.each("args", [&](const json& e, const std::string& p) {
        Obj a(e, p);
        SeccompArg arg;
        if (!a.has("index")) fail(a.path("index"), "required");
        arg.index = a.int_or<uint32_t>("index", 0);
        if (arg.index > 5) fail(a.path("index"), "{} is out of range 0..5", arg.index);
        arg.value = a.int_or<uint64_t>("value", 0);
        arg.value_two = a.int_or<uint64_t>("valueTwo", 0);
        arg.op = required_name(a, "op", seccomp_operators(), "seccomp operator");
        s.args.push_back(arg);
    });
    return s;
}

}  // namespace

Resources parse_resources(const Obj& o) {
    Resources r;
    r.devices = parse_device_rules(o);
    if (o.has("memory")) r.memory = parse_memory(o.obj("memory"));
    if (o.has("cpu")) r.cpu = parse_cpu(o.obj("cpu"));
    if (o.has("pids")) r.pids = PidsResources{o.obj("pids").int_or<int64_t>("limit", 0)};
    if (o.has("blockIO")) r.block_io = parse_block_io(o.obj("blockIO"));
    o.each("hugepageLimits", [&](const json& e, const std::string& p) {
        Obj h(e, p);
        r.hugepage_limits.push_back(
            HugepageLimit{h.required_str("pageSize"), h.int_or<uint64_t>("limit", 0)});
    });
    if (o.has("network")) r.network = parse_network(o.obj("network"));
    o.each_member("rdma", [&](const std::string& dev, const json& v, const std::string& p) {
        Obj d(v, p);
        r.rdma[dev] =
            RdmaLimit{d.opt_int<uint32_t>("hcaHandles"), d.opt_int<uint32_t>("hcaObjects")};
    });
    r.unified = o.str_map("unified");
    return r;
}

Seccomp parse_seccomp(const Obj& o) {
    Seccomp s;
    s.default_action = required_name(o, "defaultAction", seccomp_actions(), "seccomp action");
    s.default_errno_ret = o.opt_int<uint32_t>("defaultErrnoRet");
    s.architectures = name_list(o, "architectures", seccomp_archs(), "seccomp architecture");
    s.flags = name_list(o, "flags", seccomp_flags(), "seccomp flag");
    s.listener_path = o.str("listenerPath");
    if (!s.listener_path.empty()) check_absolute(s.listener_path, o.path("listenerPath"));
    s.listener_metadata = o.str("listenerMetadata");
    o.each("syscalls", [&](const json& e, const std::string& p) {
        s.syscalls.push_back(parse_syscall(Obj(e, p)));
    });
    bool notify = s.default_action == "SCMP_ACT_NOTIFY";
    for (const auto& sc : s.syscalls) notify = notify || sc.action == "SCMP_ACT_NOTIFY";
    if (notify && s.listener_path.empty())
        fail(o.path("listenerPath"), "required when an action is SCMP_ACT_NOTIFY");
    return s;
}

}  // namespace husk::oci::detail
