// husk.conf: the few engine settings a user (or root) keeps, under podman's
// containers.conf names, in config_dir() ($XDG_CONFIG_HOME/husk/husk.conf, for root
// /etc/husk/husk.conf). One setting a line, `key = value` (the value bare or in double
// quotes), '#' comments, and containers.conf's section header `[network]` so that its lines
// can be copied as they are:
//   default_rootless_network_cmd = "slirp4netns"   # or "pasta" (the default)
// A user's `husk run`/`create` without --network gets that network (podman's rule: the key
// is for rootless containers; root's default stays the bridge). A file that cannot be
// read as this is refused in one line naming the file, the line and what is wrong.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/options.h"

namespace husk::engine {

struct EngineConfig {
    // default_rootless_network_cmd: pasta (NetworkMode::bridge: a user's bridge is pasta's)
    // or slirp4netns; unset: pasta
    std::optional<NetworkMode> default_rootless_network;
};

// Parses husk.conf's text; `path` names it in errors.
EngineConfig parse_engine_config(std::string_view text, const std::string& path);

// config_dir()/husk.conf parsed (none: every default).
EngineConfig load_engine_config();

// The network mode of a container given no --network: the bridge, or for a user the
// default_rootless_network_cmd of husk.conf (pasta's bridge when unset).
NetworkMode default_network_mode();

}  // namespace husk::engine
