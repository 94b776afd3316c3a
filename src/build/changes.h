// The instructions that change only an image's config (ENV, LABEL, EXPOSE, VOLUME, CMD,
// ENTRYPOINT, USER, WORKDIR, STOPSIGNAL, SHELL, HEALTHCHECK, ONBUILD, MAINTAINER), applied
// to the image config JSON as docker writes it ("config": {"Env": [...], ...}); used by
// `husk build` and by `husk commit -c`.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "build/dockerfile.h"

namespace husk::build {

// Per stage: whether CMD was set in it (ENTRYPOINT clears an inherited CMD, as docker).
struct StageConfigState {
    bool cmd_set = false;
};

bool is_config_instruction(std::string_view keyword);

// Applies `ins` (a config instruction) to `image_config`. Arguments are expanded with
// `lookup` (ARG and ENV values in effect). Throws on bad arguments.
void apply_config_instruction(const Instruction& ins, nlohmann::json& image_config,
                              const Lookup& lookup, char escape, StageConfigState& state);

// The shell of shell-form instructions: the config's Shell, else /bin/sh -c.
std::vector<std::string> shell_of(const nlohmann::json& image_config);

// The image's Env as a lookup (for variable substitution).
std::optional<std::string> env_value(const nlohmann::json& image_config, std::string_view name);

// `husk commit -c`: each change one Dockerfile line (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL,
// ONBUILD, USER, VOLUME, WORKDIR, STOPSIGNAL, SHELL, HEALTHCHECK), parsed now (an error
// names the bad one) and applied to the image config when called.
std::function<void(nlohmann::json& image_config)> commit_changes(
    const std::vector<std::string>& changes);

// Docker's duration text ("30s", "1m30s", "500ms") in nanoseconds; throws on bad text.
int64_t parse_duration_ns(std::string_view s);

}  // namespace husk::build
