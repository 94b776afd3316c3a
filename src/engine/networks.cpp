#include "engine/networks.h"

#include <sys/stat.h>

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/events.h"
#include "engine/lifecycle.h"
#include "engine/network.h"
#include "engine/record.h"
#include "network/conflist.h"
#include "runtime/state.h"
#include "sys/error.h"
#include "sys/user_dirs.h"

namespace husk::engine {

namespace {

using nlohmann::json;

// Names of the containers (running or not) that are on network `name`.
std::vector<std::string> users_of(const EngineContext& ctx, const std::string& name) {
    std::vector<std::string> out;
    for (auto& rec : Containers(ctx.data_root).list())
        if (std::any_of(rec.networks.begin(), rec.networks.end(),
                        [&](auto& a) { return a.network == name; }))
            out.push_back(rec.name);
    return out;
}

// Its bridge, rules, leases and record. Called under the store's lock.
void destroy(const EngineContext& ctx, const network::NetworkRecord& n) {
    remove_network_state(ctx, n);
    network::NetworkStore(ctx.data_root).remove(n);
}

// The record as it is now (under its lock: lookup() would take the lock again, and an
// fcntl lock is gone as soon as any descriptor of its file is closed).
ContainerRecord current(const Containers& db, const std::string& id) {
    auto rec = db.find(id);
    if (!rec) throw Error(fmt::format("No such container: {}", id));
    return *rec;
}

}  // namespace

namespace {

// docker's network events: Actor.ID the network id; name and type, and the container of a
// connect/disconnect.
void network_event(const EngineContext& ctx, const network::NetworkRecord& n, const char* action,
                   const std::string& container = {}) {
    const char* type = network::cni_network_name(n.name).empty() ? "bridge" : "cni";
    Event e{"network", action, n.id, {{"name", n.name}, {"type", type}}};
    if (!container.empty()) e.attributes["container"] = container;
    emit_event(ctx.data_root, std::move(e));
}

// What `network connect` and `disconnect` name: a user-defined network, or a users' CNI
// conflist "cni:NAME" (its name its id too; connect needs the conflist to exist, disconnect
// undoes what was done with the one recorded).
network::NetworkRecord attachable(const EngineContext& ctx, const std::string& key,
                                  bool must_exist) {
    std::string cni = network::cni_network_name(key);
    if (cni.empty()) return get_network(ctx, key);
    if (must_exist) network::find_conflist(cni);
    network::NetworkRecord n;
    n.id = key;
    n.name = key;
    return n;
}

}  // namespace

network::NetworkRecord create_network(const EngineContext& ctx, const network::NetworkSpec& spec) {
    auto n = network::NetworkStore(ctx.data_root)
                 .create(spec, new_container_id(), runtime::now_rfc3339());
    network_event(ctx, n, "create");
    return n;
}

std::vector<network::NetworkRecord> list_networks(const EngineContext& ctx) {
    return network::NetworkStore(ctx.data_root).list();
}

network::NetworkRecord get_network(const EngineContext& ctx, const std::string& key) {
    auto n = network::NetworkStore(ctx.data_root).find(key);
    if (!n) throw Error(fmt::format("network {} not found", key));
    return *n;
}

json inspect_network(const EngineContext& ctx, const network::NetworkRecord& n) {
    json config = json::array({{{"Subnet", n.subnet}, {"Gateway", n.gateway}}});
    if (!n.subnet6.empty()) config.push_back({{"Subnet", n.subnet6}, {"Gateway", n.gateway6}});
    json containers = json::object();
    for (auto& rec : Containers(ctx.data_root).list())
        for (auto& [name, ep] : user_endpoints(ctx, rec.id))
            if (name == n.name && !ep.address.ip.empty())
                containers[rec.id] = {
                    {"Name", rec.name},
                    {"MacAddress", ep.address.mac},
                    {"IPv4Address", fmt::format("{}/{}", ep.address.ip, ep.address.prefix_len)},
                    {"IPv6Address", ep.ip6.empty()
                                        ? ""
                                        : fmt::format("{}/{}", ep.ip6,
                                                      n.subnet6.substr(n.subnet6.find('/') + 1))}};
    return {{"Name", n.name},
            {"Id", n.id},
            {"Created", n.created},
            {"Scope", "local"},
            {"Driver", "bridge"},
            {"EnableIPv6", !n.subnet6.empty()},
            {"IPAM", {{"Driver", "default"}, {"Options", json::object()}, {"Config", config}}},
            {"Internal", n.internal},
            {"Attachable", false},
            {"Ingress", false},
            {"Containers", containers},
            {"Options", {{"com.docker.network.bridge.name", n.bridge()}}},
            {"Labels", n.labels}};
}

void remove_network(const EngineContext& ctx, const std::string& key) {
    if (network::is_predefined(key))
        throw Error(fmt::format("{} is a pre-defined network and cannot be removed", key));
    network::NetworkStore store(ctx.data_root);
    auto held = store.lock();
    auto n = get_network(ctx, key);
    auto users = users_of(ctx, n.name);
    if (!users.empty())
        throw Error(
            fmt::format("error while removing network: network {} id {} has active endpoints ({})",
                        n.name, n.id, fmt::join(users, ", ")));
    destroy(ctx, n);
    network_event(ctx, n, "destroy");
}

std::vector<std::string> prune_networks(const EngineContext& ctx) {
    network::NetworkStore store(ctx.data_root);
    auto held = store.lock();
    std::vector<std::string> out;
    for (auto& n : store.list()) {
        if (!users_of(ctx, n.name).empty()) continue;
        destroy(ctx, n);
        network_event(ctx, n, "destroy");
        out.push_back(n.name);
    }
    network::NetworkStore::drop_stale_reservations();
    return out;
}

void connect_network(const EngineContext& ctx, const std::string& net, const std::string& container,
                     const std::vector<std::string>& aliases, const std::string& ip) {
    auto n = attachable(ctx, net, true);
    ContainerRecord rec = lookup(ctx, container);
    Containers db(ctx.data_root);
    auto lk = db.lock(rec.id);
    rec = current(db, rec.id);
    if (rec.network == NetworkMode::host)
        throw Error(
            "container cannot be disconnected from host network or connected to host network");
    if (rec.network == NetworkMode::slirp4netns)
        throw Error(
            "container cannot be connected to user-defined networks: its network is "
            "slirp4netns's user-mode network");
    if (rec.network == NetworkMode::none)
        throw Error(
            "container cannot be connected to multiple networks with one of the networks in "
            "private (none) mode");
    if (sys::rootless() && !uses_user_netns(rec))
        throw Error(fmt::format(
            "rootless: container {} has a user-mode network of its own (pasta's): only a "
            "container run on one of your networks (--network NAME) can join another",
            rec.name));
    if (std::any_of(rec.networks.begin(), rec.networks.end(),
                    [&](auto& a) { return a.network == n.name; }))
        throw Error(
            fmt::format("endpoint with name {} already exists in network {}", rec.name, n.name));
    NetworkAttachment att{n.name, aliases, ip};
    check_attachments(ctx, {att});
    // recorded first: the network's names are written from the records
    rec.networks.push_back(att);
    db.save(rec);
    if (rec.status == ContainerStatus::running && rec.pid > 0) {
        try {
            connect_running(ctx, rec, rec.pid, att);
        } catch (...) {
            rec.networks.pop_back();
            db.save(rec);
            throw;
        }
    }
    network_event(ctx, n, "connect", rec.id);
}

void disconnect_network(const EngineContext& ctx, const std::string& net,
                        const std::string& container) {
    auto n = attachable(ctx, net, false);
    ContainerRecord rec = lookup(ctx, container);
    Containers db(ctx.data_root);
    auto lk = db.lock(rec.id);
    rec = current(db, rec.id);
    auto it = std::find_if(rec.networks.begin(), rec.networks.end(),
                           [&](auto& a) { return a.network == n.name; });
    if (it == rec.networks.end())
        throw Error(fmt::format("container {} is not connected to network {}", rec.id, n.name));
    if (sys::rootless() && rec.networks.size() == 1)
        throw Error(fmt::format(
            "rootless: container {} cannot leave its last network: it runs in your networks' "
            "user namespace",
            rec.name));
    disconnect_running(ctx, rec.id, n.name);
    rec.networks.erase(it);
    db.save(rec);
    network_event(ctx, n, "disconnect", rec.id);
}

}  // namespace husk::engine
