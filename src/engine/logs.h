// `husk logs`: reading the json-file logs a container's monitor writes
// (<id>-json.log, rotated to <id>-json.log.1 ...; one {"log","stream","time"} per line).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/record.h"

namespace husk::engine {

struct EngineContext;

struct LogsOptions {
    bool follow = false;
    std::optional<size_t> tail;  // the last N entries only
    int64_t since_ns = 0;        // entries at or after (Unix ns); 0: all
    int64_t until_ns = 0;        // entries at or before (Unix ns); 0: all
    bool timestamps = false;
};

// docker's --since: RFC 3339 ("2026-11-22T13:00:00Z", fraction optional), a Unix
// time ("1700000000.5"), or a duration before now ("10m", "1h30m", "45s"). --until
// takes the same forms.
int64_t parse_since(const std::string& text);

// Writes the entries to stdout/stderr by stream; with `follow`, keeps writing new ones
// until the container is no longer running or until_ns has passed.
void print_logs(const EngineContext& ctx, const ContainerRecord& rec, const LogsOptions& o);

}  // namespace husk::engine
