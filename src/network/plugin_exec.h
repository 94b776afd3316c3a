// Running one CNI plugin as the CNI spec says: the executable found in CNI_PATH, the
// CNI_* variables in its environment, its network configuration on stdin, its result
// (or error object) on stdout.
#pragma once

#include <string>
#include <vector>

namespace husk::network {

struct PluginCall {
    std::string command;  // ADD | DEL | CHECK | VERSION
    std::string container_id;
    std::string netns;
    std::string ifname = "eth0";
    std::vector<std::string> cni_path;  // directories searched for the plugin
};

// The directories plugins are looked up in: $HUSK_CNI_PATH (colon-separated), else
// /usr/lib/cni (Debian's containernetworking-plugins) and /opt/cni/bin.
std::vector<std::string> default_cni_path();

// Runs plugin `type` and returns its stdout. A failure throws husk::Error with the
// plugin's own message (the error object's msg and details), or how it died.
std::string exec_plugin(const std::string& type, const PluginCall& call, const std::string& config);

}  // namespace husk::network
