// Registry configuration: which registries are insecure and which mirrors stand in
// front of a registry, read from a registries.json. The registry client
// (registry.h) and the pull (pull.h) act on it.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace husk::image {

// What <root>/registries.json (else /etc/husk/registries.json, or the file named by
// $HUSK_REGISTRIES_CONFIG) says:
//   {"insecure": ["127.0.0.1:5000", "localhost:*"],
//    "mirrors": {"docker.io": ["mirror.lan:5000", "cache.lan/dockerhub"]}}
// insecure: shell patterns on host[:port]; such a registry is tried over HTTPS without
// certificate verification, then over plain HTTP.
// mirrors: per registry (as references name it), endpoints "host[:port][/path]" tried in
// order before the registry itself; a path is put in front of the repository.
struct Mirror {
    std::string host;    // "mirror.lan:5000"
    std::string prefix;  // "dockerhub" (no slashes at either end), or empty
    std::string str() const { return prefix.empty() ? host : host + "/" + prefix; }
    std::string repository(std::string_view repo) const;
};

struct RegistriesConfig {
    std::vector<std::string> insecure;
    // docker's default: a registry on 127.0.0.0/8, ::1 (or "localhost") is insecure too.
    // Off when the user asked for verification (--tls-verify=true).
    bool loopback_insecure = true;
    std::map<std::string, std::vector<Mirror>> mirrors;

    bool is_insecure(std::string_view registry) const;
    const std::vector<Mirror>& mirrors_of(std::string_view registry) const;
    // Reads the first of `paths` that exists; empty config when none does.
    static RegistriesConfig load(const std::vector<std::string>& paths);
    static RegistriesConfig parse(std::string_view json);  // throws naming the field
};

// Where the registries config is looked for, first found wins: $HUSK_REGISTRIES_CONFIG
// (which must exist), else <root>/registries.json, else (as a user)
// $XDG_CONFIG_HOME/husk/registries.json, else /etc/husk/registries.json.
std::vector<std::string> registries_config_paths(const std::string& root);

}  // namespace husk::image
