// Spec -> config.json text, the inverse of parse_spec. Keys come out in the
// order of the runtime-spec's Go types (what runc writes); empty optional
// fields are left out as Go's `omitempty` does.
#include <nlohmann/json.hpp>

#include "oci/spec.h"

namespace husk::oci {

namespace {

using oj = nlohmann::ordered_json;

void put(oj& o, const char* key, const std::string& v) {
    if (!v.empty()) o[key] = v;
}
void put(oj& o, const char* key, bool v) {
    if (v) o[key] = true;
}
template <class T>
void put(oj& o, const char* key, const std::optional<T>& v) {
    if (v) o[key] = *v;
}
void put(oj& o, const char* key, const std::vector<std::string>& v) {
    if (!v.empty()) o[key] = v;
}
void put(oj& o, const char* key, const std::map<std::string, std::string>& v) {
    if (!v.empty()) o[key] = v;
}
// A list of objects made by `fn`, left out when empty.
template <class T, class Fn>
void put_each(oj& o, const char* key, const std::vector<T>& items, Fn&& fn) {
    if (items.empty()) return;
    oj a = oj::array();
    for (const auto& it : items) a.push_back(fn(it));
    o[key] = std::move(a);
}

oj id_mapping(const IdMapping& m) {
    return oj{{"containerID", m.container_id}, {"hostID", m.host_id}, {"size", m.size}};
}

oj capabilities(const Capabilities& c) {
    oj o = oj::object();
    put(o, "bounding", c.bounding);
    put(o, "effective", c.effective);
    put(o, "inheritable", c.inheritable);
    put(o, "permitted", c.permitted);
    put(o, "ambient", c.ambient);
    return o;
}

oj scheduler(const Scheduler& s) {
    oj o{{"policy", s.policy}};
    if (s.nice != 0) o["nice"] = s.nice;
    if (s.priority != 0) o["priority"] = s.priority;
    put(o, "flags", s.flags);
    if (s.runtime != 0) o["runtime"] = s.runtime;
    if (s.deadline != 0) o["deadline"] = s.deadline;
    if (s.period != 0) o["period"] = s.period;
    return o;
}

oj process(const Process& p) {
    oj o = oj::object();
    put(o, "terminal", p.terminal);
    if (p.console_size)
        o["consoleSize"] = {{"height", p.console_size->height}, {"width", p.console_size->width}};
    oj user{{"uid", p.user.uid}, {"gid", p.user.gid}};
    put(user, "umask", p.user.umask);
    if (!p.user.additional_gids.empty()) user["additionalGids"] = p.user.additional_gids;
    put(user, "username", p.user.username);
    o["user"] = std::move(user);
    put(o, "args", p.args);
    put(o, "env", p.env);
    o["cwd"] = p.cwd;
    if (p.capabilities) o["capabilities"] = capabilities(*p.capabilities);
    put_each(o, "rlimits", p.rlimits, [](const Rlimit& r) {
        return oj{{"type", r.type}, {"hard", r.hard}, {"soft", r.soft}};
    });
    put(o, "noNewPrivileges", p.no_new_privileges);
    put(o, "apparmorProfile", p.apparmor_profile);
    put(o, "oomScoreAdj", p.oom_score_adj);
    if (p.scheduler) o["scheduler"] = scheduler(*p.scheduler);
    put(o, "selinuxLabel", p.selinux_label);
    if (p.io_priority)
        o["ioPriority"] = {{"class", p.io_priority->io_class},
                           {"priority", p.io_priority->priority}};
    if (p.exec_cpu_affinity) {
        oj a = oj::object();
        put(a, "initial", p.exec_cpu_affinity->initial);
        put(a, "final", p.exec_cpu_affinity->final_);
        o["execCPUAffinity"] = std::move(a);
    }
    return o;
}

oj mount(const Mount& m) {
    oj o{{"destination", m.destination}};
    put(o, "type", m.type);
    put(o, "source", m.source);
    put(o, "options", m.options);
    put_each(o, "uidMappings", m.uid_mappings, id_mapping);
    put_each(o, "gidMappings", m.gid_mappings, id_mapping);
    return o;
}

oj hook(const Hook& h) {
    oj o{{"path", h.path}};
    put(o, "args", h.args);
    put(o, "env", h.env);
    put(o, "timeout", h.timeout);
    return o;
}

oj hooks(const Hooks& h) {
    oj o = oj::object();
    put_each(o, "prestart", h.prestart, hook);
    put_each(o, "createRuntime", h.create_runtime, hook);
    put_each(o, "createContainer", h.create_container, hook);
    put_each(o, "startContainer", h.start_container, hook);
    put_each(o, "poststart", h.poststart, hook);
    put_each(o, "poststop", h.poststop, hook);
    return o;
}

oj throttle(const ThrottleDevice& t) {
    return oj{{"major", t.major}, {"minor", t.minor}, {"rate", t.rate}};
}

oj block_io(const BlockIoResources& b) {
    oj o = oj::object();
    put(o, "weight", b.weight);
    put(o, "leafWeight", b.leaf_weight);
    put_each(o, "weightDevice", b.weight_device, [](const WeightDevice& w) {
        oj d{{"major", w.major}, {"minor", w.minor}};
        put(d, "weight", w.weight);
        put(d, "leafWeight", w.leaf_weight);
        return d;
    });
    put_each(o, "throttleReadBpsDevice", b.throttle_read_bps_device, throttle);
    put_each(o, "throttleWriteBpsDevice", b.throttle_write_bps_device, throttle);
    put_each(o, "throttleReadIOPSDevice", b.throttle_read_iops_device, throttle);
    put_each(o, "throttleWriteIOPSDevice", b.throttle_write_iops_device, throttle);
    return o;
}

oj resources(const Resources& r) {
    oj o = oj::object();
    put_each(o, "devices", r.devices, [](const DeviceRule& d) {
        oj j{{"allow", d.allow}};
        put(j, "type", d.type);
        put(j, "major", d.major);
        put(j, "minor", d.minor);
        put(j, "access", d.access);
        return j;
    });
    if (r.memory) {
        const auto& m = *r.memory;
        oj j = oj::object();
        put(j, "limit", m.limit);
        put(j, "reservation", m.reservation);
        put(j, "swap", m.swap);
        put(j, "kernel", m.kernel);
        put(j, "kernelTCP", m.kernel_tcp);
        put(j, "swappiness", m.swappiness);
        put(j, "disableOOMKiller", m.disable_oom_killer);
        put(j, "useHierarchy", m.use_hierarchy);
        put(j, "checkBeforeUpdate", m.check_before_update);
        o["memory"] = std::move(j);
    }
    if (r.cpu) {
        const auto& c = *r.cpu;
        oj j = oj::object();
        put(j, "shares", c.shares);
        put(j, "quota", c.quota);
        put(j, "burst", c.burst);
        put(j, "period", c.period);
        put(j, "realtimeRuntime", c.realtime_runtime);
        put(j, "realtimePeriod", c.realtime_period);
        put(j, "cpus", c.cpus);
        put(j, "mems", c.mems);
        put(j, "idle", c.idle);
        o["cpu"] = std::move(j);
    }
    if (r.pids) o["pids"] = {{"limit", r.pids->limit}};
    if (r.block_io) o["blockIO"] = block_io(*r.block_io);
    put_each(o, "hugepageLimits", r.hugepage_limits, [](const HugepageLimit& h) {
        return oj{{"pageSize", h.page_size}, {"limit", h.limit}};
    });
    if (r.network) {
        oj j = oj::object();
        put(j, "classID", r.network->class_id);
        put_each(j, "priorities", r.network->priorities, [](const NetPriority& p) {
            return oj{{"name", p.name}, {"priority", p.priority}};
        });
        o["network"] = std::move(j);
    }
    if (!r.rdma.empty()) {
        oj j = oj::object();
        for (const auto& [dev, l] : r.rdma) {
            oj d = oj::object();
            put(d, "hcaHandles", l.hca_handles);
            put(d, "hcaObjects", l.hca_objects);
            j[dev] = std::move(d);
        }
        o["rdma"] = std::move(j);
    }
    put(o, "unified", r.unified);
    return o;
}

oj seccomp(const Seccomp& s) {
    oj o{{"defaultAction", s.default_action}};
    put(o, "defaultErrnoRet", s.default_errno_ret);
    put(o, "architectures", s.architectures);
    put(o, "flags", s.flags);
    put(o, "listenerPath", s.listener_path);
    put(o, "listenerMetadata", s.listener_metadata);
    put_each(o, "syscalls", s.syscalls, [](const SeccompSyscall& sc) {
        oj j{{"names", sc.names}, {"action", sc.action}};
        put(j, "errnoRet", sc.errno_ret);
        put_each(j, "args", sc.args, [](const SeccompArg& a) {
            oj arg{{"index", a.index}, {"value", a.value}};
            if (a.value_two != 0) arg["valueTwo"] = a.value_two;
            arg["op"] = a.op;
            return arg;
        });
        return j;
    });
    return o;
}

oj linux_section(const Linux& l) {
    oj o = oj::object();
    put_each(o, "uidMappings", l.uid_mappings, id_mapping);
    put_each(o, "gidMappings", l.gid_mappings, id_mapping);
    put(o, "sysctl", l.sysctl);
    if (l.resources) o["resources"] = resources(*l.resources);
    put(o, "cgroupsPath", l.cgroups_path);
    put_each(o, "namespaces", l.namespaces, [](const Namespace& n) {
        oj j{{"type", n.type}};
        put(j, "path", n.path);
        return j;
    });
    put_each(o, "devices", l.devices, [](const Device& d) {
        oj j{{"path", d.path}, {"type", d.type}, {"major", d.major}, {"minor", d.minor}};
        put(j, "fileMode", d.file_mode);
        put(j, "uid", d.uid);
        put(j, "gid", d.gid);
        return j;
    });
    if (!l.net_devices.empty()) {
        oj j = oj::object();
        for (const auto& [host, d] : l.net_devices) {
            j[host] = oj::object();
            put(j[host], "name", d.name);
        }
        o["netDevices"] = std::move(j);
    }
    if (l.seccomp) o["seccomp"] = seccomp(*l.seccomp);
    put(o, "rootfsPropagation", l.rootfs_propagation);
    put(o, "maskedPaths", l.masked_paths);
    put(o, "readonlyPaths", l.readonly_paths);
    put(o, "mountLabel", l.mount_label);
    if (l.intel_rdt) {
        const auto& r = *l.intel_rdt;
        oj j = oj::object();
        put(j, "closID", r.clos_id);
        put(j, "l3CacheSchema", r.l3_cache_schema);
        put(j, "memBwSchema", r.mem_bw_schema);
        put(j, "schemata", r.schemata);
        put(j, "enableCMT", r.enable_cmt);
        put(j, "enableMBM", r.enable_mbm);
        put(j, "enableMonitoring", r.enable_monitoring);
        o["intelRdt"] = std::move(j);
    }
    if (l.memory_policy) {
        oj j{{"mode", l.memory_policy->mode}};
        put(j, "nodes", l.memory_policy->nodes);
        put(j, "flags", l.memory_policy->flags);
        o["memoryPolicy"] = std::move(j);
    }
    if (l.personality) {
        oj j{{"domain", l.personality->domain}};
        put(j, "flags", l.personality->flags);
        o["personality"] = std::move(j);
    }
    if (!l.time_offsets.empty()) {
        oj j = oj::object();
        for (const auto& [clock, t] : l.time_offsets)
            j[clock] = {{"secs", t.secs}, {"nanosecs", t.nanosecs}};
        o["timeOffsets"] = std::move(j);
    }
    return o;
}

}  // namespace

std::string dump_spec(const Spec& spec) {
    oj o{{"ociVersion", spec.oci_version}};
    if (spec.process) o["process"] = process(*spec.process);
    if (spec.root) {
        oj r{{"path", spec.root->path}};
        put(r, "readonly", spec.root->readonly);
        o["root"] = std::move(r);
    }
    put(o, "hostname", spec.hostname);
    put(o, "domainname", spec.domainname);
    put_each(o, "mounts", spec.mounts, mount);
    if (spec.hooks) o["hooks"] = hooks(*spec.hooks);
    put(o, "annotations", spec.annotations);
    if (spec.linux_) o["linux"] = linux_section(*spec.linux_);
    return o.dump(2) + "\n";
}

}  // namespace husk::oci
