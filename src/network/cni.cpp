#include "network/cni.h"

#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "network/conflist.h"
#include "network/plugin_exec.h"
#include "sys/error.h"
#include "sys/log.h"

namespace husk::network {

namespace {

PluginCall call_of(const std::string& command, const Attach& a) {
    PluginCall c;
    c.command = command;
    c.container_id = a.container_id;
    c.netns = a.netns;
    c.ifname = a.ifname;
    c.cni_path = default_cni_path();
    return c;
}

std::string network_name(const std::string& conflist) {
    return nlohmann::json::parse(conflist).value("name", "");
}

[[noreturn]] void plugin_failed(const std::string& conflist, const std::string& type,
                                const std::exception& e) {
    throw Error(
        fmt::format("network \"{}\": plugin \"{}\": {}", network_name(conflist), type, e.what()));
}

}  // namespace

std::string cni_add(const std::string& conflist, const Attach& a) {
    auto types = plugin_types(conflist);
    PluginCall call = call_of("ADD", a);
    std::string result;
    for (size_t i = 0; i < types.size(); ++i) {
        try {
            result =
                exec_plugin(types[i], call, plugin_config(conflist, i, a.ports, result, a.ips));
            if (!nlohmann::json::accept(result)) throw Error("its result is not JSON: " + result);
        } catch (const std::exception& e) {
            // The spec: a runtime cleans up a failed ADD with DEL.
            try {
                cni_del(conflist, a, i > 0 ? result : "");
            } catch (const std::exception& del) {
                log::warn("cleaning up after a failed network setup: {}", del.what());
            }
            plugin_failed(conflist, types[i], e);
        }
    }
    return result;
}

void cni_del(const std::string& conflist, const Attach& a, const std::string& cached_result) {
    auto types = plugin_types(conflist);
    PluginCall call = call_of("DEL", a);
    std::optional<std::pair<std::string, std::string>> first;  // type, message
    for (size_t i = types.size(); i-- > 0;) {
        try {
            exec_plugin(types[i], call, plugin_config(conflist, i, a.ports, cached_result, a.ips));
        } catch (const std::exception& e) {
            if (!first) first.emplace(types[i], e.what());
        }
    }
    if (first)
        throw Error(fmt::format("network \"{}\": plugin \"{}\": {}", network_name(conflist),
                                first->first, first->second));
}

}  // namespace husk::network
