// config.json "linux" -> Linux (resources and seccomp are in spec_parse_resources.cpp).
#include <sys/stat.h>

#include <cctype>
#include <set>

#include "oci/parse_parts.h"

namespace husk::oci::detail {

namespace {

std::vector<Namespace> parse_namespaces(const Obj& o) {
    std::vector<Namespace> out;
    std::set<std::string> seen;
    o.each("namespaces", [&](const json& e, const std::string& p) {
        Obj n(e, p);
        Namespace ns;
        ns.type = required_name(n, "type", namespace_types(), "namespace type");
        if (!seen.insert(ns.type).second)
            fail(n.path("type"), "duplicate namespace type \"{}\"", ns.type);
        ns.path = n.str("path");
        if (!ns.path.empty()) check_absolute(ns.path, n.path("path"));
        out.push_back(std::move(ns));
    });
    return out;
}

std::map<std::string, TimeOffset> parse_time_offsets(const Obj& o) {
    std::map<std::string, TimeOffset> out;
    o.each_member(
        "timeOffsets", [&](const std::string& clock, const json& v, const std::string& p) {
            if (clock != "monotonic" && clock != "boottime")
                fail(p, "unknown clock \"{}\" (want monotonic or boottime)", clock);
            Obj t(v, p);
            TimeOffset off{t.int_or<int64_t>("secs", 0), t.int_or<uint32_t>("nanosecs", 0)};
            if (off.nanosecs >= 1'000'000'000u)
                fail(t.path("nanosecs"), "{} is not below 1000000000", off.nanosecs);
            out[clock] = off;
        });
    return out;
}

std::vector<Device> parse_devices(const Obj& o) {
    std::vector<Device> out;
    o.each("devices", [&](const json& e, const std::string& p) {
        Obj d(e, p);
        Device dev;
        dev.type = d.required_str("type");
        if (dev.type != "c" && dev.type != "b" && dev.type != "u" && dev.type != "p")
            fail(d.path("type"), "unknown device type \"{}\" (want c, b, u or p)", dev.type);
        dev.path = d.required_str("path");
        check_absolute(dev.path, d.path("path"));
        if (dev.type != "p") {
            for (auto key : {"major", "minor"})
                if (!d.has(key)) fail(d.path(key), "required for device type {}", dev.type);
        }
        dev.major = d.int_or<int64_t>("major", 0);
        dev.minor = d.int_or<int64_t>("minor", 0);
        // podman passes the file-type bits too (020666 for a character device), as stat's
        // st_mode has them: accepted, and only the permission bits are used (the type is
        // `type`'s), as runc.
        dev.file_mode = d.opt_int<uint32_t>("fileMode");
        if (dev.file_mode && (*dev.file_mode & ~(S_IFMT | 07777U)) != 0)
            fail(d.path("fileMode"), "{:#o} is not a file mode (max 0177777)", *dev.file_mode);
        dev.uid = d.opt_int<uint32_t>("uid");
        dev.gid = d.opt_int<uint32_t>("gid");
        out.push_back(std::move(dev));
    });
    return out;
}

void check_netdev_name(const std::string& name, const std::string& path) {
    // The kernel's dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or whitespace.
    bool ok = !name.empty() && name.size() < 16 && name != "." && name != "..";
    for (char c : name)
        if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c))) ok = false;
    if (!ok) fail(path, "invalid network device name \"{}\"", name);
}

std::map<std::string, NetDevice> parse_net_devices(const Obj& o) {
    std::map<std::string, NetDevice> out;
    o.each_member("netDevices", [&](const std::string& host, const json& v, const std::string& p) {
        check_netdev_name(host, p);
        Obj d(v, p);
        NetDevice nd{d.str("name")};
        if (!nd.name.empty()) check_netdev_name(nd.name, d.path("name"));
        out[host] = nd;
    });
    return out;
}

std::vector<std::string> parse_path_list(const Obj& o, std::string_view key) {
    auto paths = o.str_list(key);
    for (size_t i = 0; i < paths.size(); ++i) check_absolute(paths[i], at_index(o.path(key), i));
    return paths;
}

Personality parse_personality(const Obj& o) {
    Personality p;
    p.domain = required_name(o, "domain", personality_domains(), "personality domain");
    p.flags = o.str_list("flags");
    return p;
}

IntelRdt parse_intel_rdt(const Obj& o) {
    IntelRdt r;
    r.clos_id = o.str("closID");
    r.l3_cache_schema = o.str("l3CacheSchema");
    r.mem_bw_schema = o.str("memBwSchema");
    r.schemata = o.str_list("schemata");
    r.enable_cmt = o.boolean("enableCMT");
    r.enable_mbm = o.boolean("enableMBM");
    r.enable_monitoring = o.boolean("enableMonitoring");
    return r;
}

MemoryPolicy parse_memory_policy(const Obj& o) {
    MemoryPolicy m;
    m.mode = required_name(o, "mode", memory_policy_modes(), "memory policy mode");
    m.nodes = o.str("nodes");
    if (!m.nodes.empty()) check_cpu_list(m.nodes, o.path("nodes"));
    m.flags = name_list(o, "flags", memory_policy_flags(), "memory policy flag");
    return m;
}

}  // namespace

std::vector<IdMapping> parse_id_mappings(const Obj& parent, std::string_view key) {
    std::vector<IdMapping> out;
    parent.each(key, [&](const json& e, const std::string& p) {
        Obj m(e, p);
        out.push_back(IdMapping{m.int_or<uint32_t>("containerID", 0),
                                m.int_or<uint32_t>("hostID", 0), m.int_or<uint32_t>("size", 0)});
    });
    return out;
}

Linux parse_linux(const Obj& o) {
    Linux l;
    l.namespaces = parse_namespaces(o);
    l.uid_mappings = parse_id_mappings(o, "uidMappings");
    l.gid_mappings = parse_id_mappings(o, "gidMappings");
    l.time_offsets = parse_time_offsets(o);
    l.devices = parse_devices(o);
    l.net_devices = parse_net_devices(o);
    l.cgroups_path = o.str("cgroupsPath");
    if (o.has("resources")) l.resources = parse_resources(o.obj("resources"));
    l.rootfs_propagation = o.str("rootfsPropagation");
    if (!l.rootfs_propagation.empty())
        check_name(rootfs_propagations(), l.rootfs_propagation, o.path("rootfsPropagation"),
                   "rootfs propagation");
    if (o.has("seccomp")) l.seccomp = parse_seccomp(o.obj("seccomp"));
    l.sysctl = o.str_map("sysctl");
    l.masked_paths = parse_path_list(o, "maskedPaths");
    l.readonly_paths = parse_path_list(o, "readonlyPaths");
    l.mount_label = o.str("mountLabel");
    if (o.has("personality")) l.personality = parse_personality(o.obj("personality"));
    if (o.has("intelRdt")) l.intel_rdt = parse_intel_rdt(o.obj("intelRdt"));
    if (o.has("memoryPolicy")) l.memory_policy = parse_memory_policy(o.obj("memoryPolicy"));
    return l;
}

}  // namespace husk::oci::detail
