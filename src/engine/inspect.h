// `husk inspect`: a container as docker describes it (one object of docker's array):
// Id, Created, Path, Args, State{Status, Running, Paused, Restarting, OOMKilled, Dead,
// Pid, ExitCode, Error, StartedAt, FinishedAt}, Image, Name, RestartCount, LogPath,
// Config, HostConfig, Mounts, GraphDriver, from the record and its config.json.
#pragma once

#include <map>
#include <string>

#include "engine/record.h"

namespace husk::engine {

struct EngineContext;

// The JSON object (text) of one container.
std::string inspect_json(const EngineContext& ctx, const ContainerRecord& rec);
// Its labels as docker's Config.Labels has them (the image's and --label's).
std::map<std::string, std::string> container_labels(const EngineContext& ctx,
                                                    const ContainerRecord& rec);

}  // namespace husk::engine
