// `husk port CONTAINER [PRIVATE_PORT[/PROTO]]`: the host ports a running container's
// ports are published on, as docker prints them ("80/tcp -> 0.0.0.0:8080").
#pragma once

#include <string>
#include <vector>

#include "engine/record.h"
#include "engine/run.h"

namespace husk::engine {

// One line per published port; with `private_port` ("80" or "80/udp", tcp by default)
// only its host addresses ("0.0.0.0:8080"), and an error when it is not published.
std::vector<std::string> port_lines(const EngineContext& ctx, const ContainerRecord& rec,
                                    const std::string& private_port = "");

}  // namespace husk::engine
