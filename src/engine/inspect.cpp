#include "engine/inspect.h"

#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/health.h"
#include "engine/lifecycle.h"
#include "engine/network.h"
#include "network/ports.h"
#include "sys/error.h"
#include "sys/fileutil.h"

namespace husk::engine {

using nlohmann::json;

namespace {

const char* kNever = "0001-01-01T00:00:00Z";  // docker's zero time

json state_of(const ContainerRecord& r, const std::optional<HealthState>& health) {
    bool running = r.status == ContainerStatus::running;
    json s = json{{"Status", r.state()},
                  {"Running", running},
                  {"Paused", r.paused},
                  {"Restarting", r.restarting},
                  {"OOMKilled", r.oom_killed},
                  {"Dead", false},
                  {"Pid", running ? r.pid : 0},
                  {"ExitCode", r.exit_code},
                  {"Error", r.status == ContainerStatus::exited && r.exit_code == -1
                                ? "the container's monitor exited before the container"
                                : ""},
                  {"StartedAt", r.started.empty() ? kNever : r.started},
                  {"FinishedAt", r.finished.empty() ? kNever : r.finished}};
    if (health) s["Health"] = health_state_json(*health);
    return s;
}

// The volume (of `volumes`) a bind source is the data directory of, else "".
std::string volume_of(const std::string& src, const std::vector<std::string>& volumes) {
    for (auto& v : volumes)
        if (src.ends_with("/volumes/" + v + "/_data")) return v;
    return "";
}

json mounts_of(const json& cfg, const std::vector<std::string>& volumes) {
    json out = json::array();
    for (auto& m : cfg.value("mounts", json::array())) {
        auto opts = m.value("options", std::vector<std::string>{});
        std::string type = m.value("type", "");
        bool bind = type == "bind" || std::find(opts.begin(), opts.end(), "bind") != opts.end() ||
                    std::find(opts.begin(), opts.end(), "rbind") != opts.end();
        std::string src = m.value("source", "");
        std::string dst = m.value("destination", "");
        // docker lists the user's volumes and binds, not /proc, /dev... nor its /etc files
        if (!(bind || type == "tmpfs") || dst.starts_with("/proc") || dst.starts_with("/dev") ||
            dst.starts_with("/sys") || dst == "/etc/hostname" || dst == "/etc/hosts" ||
            dst == "/etc/resolv.conf" || dst == "/sbin/husk-init")
            continue;
        bool ro = std::find(opts.begin(), opts.end(), "ro") != opts.end();
        std::string volume = bind ? volume_of(src, volumes) : "";
        json entry{{"Type", !volume.empty() ? "volume" : bind ? "bind" : "tmpfs"}};
        if (!volume.empty()) entry["Name"] = volume;
        entry["Source"] = bind ? src : "";
        entry["Destination"] = dst;
        if (!volume.empty()) entry["Driver"] = "local";
        entry["Mode"] = "";
        entry["RW"] = !ro;
        entry["Propagation"] = bind && volume.empty() ? "rprivate" : "";
        out.push_back(std::move(entry));
    }
    return out;
}

// docker's shape: {"80/tcp": {}}
// HostConfig.RestartPolicy: {"Name": "on-failure", "MaximumRetryCount": 3}
json restart_policy_json(const std::string& policy) {
    auto colon = policy.find(':');
    int max = colon == std::string::npos ? 0 : std::atoi(policy.c_str() + colon + 1);
    return json{{"Name", policy.substr(0, colon)}, {"MaximumRetryCount", max}};
}

json exposed_ports(const ContainerRecord& r) {
    json out = json::object();
    for (auto& p : r.exposed_ports) out[p] = json::object();
    return out;
}

// docker's NetworkSettings: the address while connected, the published ports as
// {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}, exposed ones as null.
json network_settings(const EngineContext& ctx, const ContainerRecord& r) {
    json ports = json::object();
    std::optional<network::Endpoint> ep;
    try {
        ep = container_endpoint(ctx, r.id);
    } catch (const std::exception&) {
    }
    if (r.status == ContainerStatus::running)
        for (auto& p : r.exposed_ports) ports[p] = nullptr;
    json net = {{"IPAddress", ""}, {"IPPrefixLen", 0}, {"Gateway", ""}, {"MacAddress", ""}};
    if (ep) {
        for (auto& p : ep->ports) {
            std::string key = fmt::format("{}/{}", p.container_port, p.protocol);
            if (!ports[key].is_array()) ports[key] = json::array();
            ports[key].push_back({{"HostIp", p.host_ip.empty() ? "0.0.0.0" : p.host_ip},
                                  {"HostPort", std::to_string(p.host_port)}});
        }
        net = {{"IPAddress", ep->address.ip},
               {"IPPrefixLen", ep->address.prefix_len},
               {"Gateway", ep->address.gateway},
               {"MacAddress", ep->address.mac}};
    }
    json out = {{"Ports", ports}, {"SandboxKey", ep ? ep->netns_pin : ""}};
    out.update(net);
    json networks = json::object();
    if (r.network == NetworkMode::bridge)
        networks["husk"] = net;
    else if (r.network == NetworkMode::slirp4netns)
        networks["slirp4netns"] = net;
    else if (r.network != NetworkMode::user)
        networks[std::string(to_string(r.network))] = json::object();
    std::vector<std::pair<std::string, network::Endpoint>> eps;
    try {
        eps = user_endpoints(ctx, r.id);
    } catch (const std::exception&) {
    }
    for (auto& a : r.networks) {
        json one = {{"IPAddress", ""},
                    {"IPPrefixLen", 0},
                    {"Gateway", ""},
                    {"MacAddress", ""},
                    {"Aliases", a.aliases},
                    {"NetworkID", ""},
                    {"IPAMConfig", a.ip.empty() ? json(nullptr) : json{{"IPv4Address", a.ip}}}};
        for (auto& [name, ep] : eps)
            if (name == a.network)
                one.update({{"IPAddress", ep.address.ip},
                            {"IPPrefixLen", ep.address.prefix_len},
                            {"Gateway", ep.address.gateway},
                            {"MacAddress", ep.address.mac},
                            {"GlobalIPv6Address", ep.ip6},
                            {"IPv6Gateway", ep.ip6.empty() ? "" : ep.network.gateway6}});
        networks[a.network] = one;
    }
    out["Networks"] = networks;
    return out;
}

// docker's HostConfig.PortBindings: what -p asked for (host port "" when ours to pick).
json port_bindings(const ContainerRecord& r) {
    json out = json::object();
    for (auto& p : r.publish) {
        std::string key = fmt::format("{}/{}", p.container_port, p.protocol);
        if (!out[key].is_array()) out[key] = json::array();
        out[key].push_back(
            {{"HostIp", p.host_ip}, {"HostPort", p.host_port ? std::to_string(p.host_port) : ""}});
    }
    return out;
}

}  // namespace

namespace {
// docker's Config.Labels: the config's annotations (the image's labels and --label),
// without the stop signal husk keeps there.
json labels_of(const json& cfg) {
    json labels = json::object();
    json annotations = cfg.value("annotations", json::object());
    for (auto& [k, v] : annotations.items())
        if (k != "org.opencontainers.image.stopSignal") labels[k] = v;
    return labels;
}
}  // namespace

std::map<std::string, std::string> container_labels(const EngineContext& ctx,
                                                    const ContainerRecord& r) {
    try {
        return labels_of(json::parse(container_config_json(ctx, r)))
            .get<std::map<std::string, std::string>>();
    } catch (const std::exception&) {
        return {};  // a record without its bundle
    }
}

std::string inspect_json(const EngineContext& ctx, const ContainerRecord& r) {
    json cfg = json::object();
    try {
        cfg = json::parse(container_config_json(ctx, r));
    } catch (const std::exception&) {
        // a record without its bundle: inspect what the record says
    }
    json proc = cfg.value("process", json::object());
    auto args = proc.value("args", std::vector<std::string>{});
    json annotations = cfg.value("annotations", json::object());
    json labels = labels_of(cfg);
    json user = proc.value("user", json::object());
    json res = cfg.value("linux", json::object()).value("resources", json::object());
    json mem = res.value("memory", json::object());
    json cpu = res.value("cpu", json::object());
    json pids = res.value("pids", json::object());
    std::string dir = Containers(ctx.data_root).dir(r.id);
    std::string rootfs_dir = r.rootfs.substr(0, r.rootfs.rfind('/'));
    bool overlay = sys::exists_follow(rootfs_dir + "/upper");
    json graph = {{"Name", overlay ? "overlay" : "vfs"},
                  {"Data", overlay ? json{{"MergedDir", r.rootfs},
                                          {"UpperDir", rootfs_dir + "/upper"},
                                          {"WorkDir", rootfs_dir + "/work"}}
                                   : json{{"Dir", r.rootfs}}}};
    json o = {
        {"Id", r.id},
        {"Created", r.created},
        {"Path", args.empty() ? "" : args[0]},
        {"Args", args.empty() ? std::vector<std::string>{}
                              : std::vector<std::string>(args.begin() + 1, args.end())},
        {"State", state_of(r, load_health(ctx.data_root, r))},
        {"Image", r.image_id},
        {"ResolvConfPath", dir + "/resolv.conf"},
        {"HostnamePath", dir + "/hostname"},
        {"HostsPath", dir + "/hosts"},
        {"LogPath", dir + "/" + r.id + "-json.log"},
        {"Name", "/" + r.name},
        {"RestartCount", r.restart_count},
        {"Driver", overlay ? "overlay" : "vfs"},
        {"Platform", "linux"},
        {"HostConfig",
         {{"LogConfig",
           {{"Type", "json-file"},
            {"Config", r.log_max_size > 0 ? json{{"max-size", std::to_string(r.log_max_size)},
                                                 {"max-file", std::to_string(r.log_max_file)}}
                                          : json::object()}}},
          {"AutoRemove", r.auto_remove},
          {"RestartPolicy", restart_policy_json(r.restart_policy)},
          {"ReadonlyRootfs", cfg.value("root", json::object()).value("readonly", false)},
          {"Memory", mem.value("limit", int64_t{0})},
          {"MemorySwap", mem.value("swap", int64_t{0})},
          {"CpuShares", cpu.value("shares", int64_t{0})},
          {"CpuQuota", cpu.value("quota", int64_t{0})},
          {"CpuPeriod", cpu.value("period", int64_t{0})},
          {"CpusetCpus", cpu.value("cpus", "")},
          {"PidsLimit", pids.value("limit", int64_t{0})},
          {"UsernsMode", to_string(r.uid_maps.empty() ? UsernsMode::unset : UsernsMode::automatic)},
          {"NetworkMode", r.network == NetworkMode::user && !r.networks.empty()
                              ? r.networks.front().network
                              : std::string(to_string(r.network))},
          {"PortBindings", port_bindings(r)},
          {"Dns", r.dns}}},
        {"NetworkSettings", network_settings(ctx, r)},
        {"Mounts", mounts_of(cfg, r.volumes)},
        {"GraphDriver", graph},
        {"Config",
         {{"Hostname", cfg.value("hostname", "")},
          {"User", r.config ? r.config->user
                   : user.empty()
                       ? ""
                       : fmt::format("{}:{}", user.value("uid", 0), user.value("gid", 0))},
          {"Tty", r.tty},
          {"OpenStdin", r.open_stdin},
          {"Env", r.config ? r.config->env : proc.value("env", std::vector<std::string>{})},
          {"Cmd", r.config ? r.config->cmd : r.command},
          {"Entrypoint",
           r.config && !r.config->entrypoint.empty() ? json(r.config->entrypoint) : json(nullptr)},
          {"Image", r.image},
          {"WorkingDir", r.config ? r.config->working_dir : proc.value("cwd", "/")},
          {"Labels", labels},
          {"ExposedPorts", exposed_ports(r)},
          {"StopSignal", annotations.value("org.opencontainers.image.stopSignal", "SIGTERM")}}}};
    if (r.health) o["Config"]["Healthcheck"] = health_config_json(*r.health);
    return o.dump(4);
}

}  // namespace husk::engine
