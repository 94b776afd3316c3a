// Health checks (docker's HEALTHCHECK, --health-*): the check a container has, the
// state it is in, and one run of the check.
//
// The container's monitor runs `husk healthcheck run ID` every interval while the
// container runs (monitor/husk-monitor.c); that runs the check's command in the
// container (runtime exec, killed at the timeout) and records the result in
// <id>/health.json under the container's lock: docker's State.Health
// {Status: starting|healthy|unhealthy, FailingStreak, Log: the last 5 results}.
// A status change is a `health_status: healthy` event.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace husk::oci::image {
struct ImageHealthcheck;
}

namespace husk::engine {

struct EngineContext;
struct ContainerRecord;

struct HealthConfig {
    std::vector<std::string> test;  // ["CMD-SHELL", "cmd"] or ["CMD", arg...]
    int64_t interval_ns = 30'000'000'000;
    int64_t timeout_ns = 30'000'000'000;
    int64_t start_period_ns = 0;
    int64_t start_interval_ns = 0;  // between checks in the start period; 0: docker's 5s
    int retries = 3;
};

// The --health-* flags as given (text: durations are Go's "1m30s", "500ms").
struct HealthFlags {
    std::string cmd, interval, timeout, start_period, start_interval;
    std::optional<int> retries;
    bool none = false;  // --no-healthcheck
};

// A flag's duration; throws docker's one line
// `invalid argument "x" for "--health-interval" flag: time: invalid duration "x"`, and
// refuses a negative one (`--health-interval cannot be negative`). 0 for "".
int64_t parse_health_duration(const char* flag, const std::string& text);

// The container's check: the image's (`image`, may be null) with the flags laid over it;
// none with --no-healthcheck, an image's ["NONE"], or neither. Throws on a bad flag
// (--health-retries negative, a duration not one, --no-healthcheck with --health-cmd).
std::optional<HealthConfig> resolve_health(const HealthFlags& flags,
                                           const oci::image::ImageHealthcheck* image);

nlohmann::json health_config_json(const HealthConfig& h);  // docker's Config.Healthcheck

// The time between two checks of `h` while the container starts (docker's rule: the start
// interval, 5s by default, while in the start period and still "starting"; else the
// interval), in ms: what the monitor is given.
int64_t health_start_interval_ms(const HealthConfig& h);
HealthConfig health_config_from(const nlohmann::json& j);

struct HealthResult {
    std::string start, end;  // RFC 3339
    int exit_code = 0;       // 0 healthy, 1 unhealthy, -1 could not run
    std::string output;      // at most 4 KiB, as docker keeps it
};

struct HealthState {
    std::string status = "starting";
    int failing_streak = 0;
    std::vector<HealthResult> log;  // the last 5
};

// docker's State.Health object.
nlohmann::json health_state_json(const HealthState& s);
HealthState health_state_from(const nlohmann::json& j);

// The state after `r`: a success makes it healthy; a failure counts towards `retries`
// (unhealthy when reached) unless it falls in the start period (`in_start_period`)
// while the container was never healthy. The log keeps the last 5 results.
HealthState next_health_state(HealthState s, const HealthConfig& c, const HealthResult& r,
                              bool in_start_period);

// The container's recorded state (<id>/health.json); nullopt without a check.
std::optional<HealthState> load_health(const std::string& data_root, const ContainerRecord& rec);
// A fresh "starting" state, written when the container starts (no-op without a check).
void reset_health(const std::string& data_root, const ContainerRecord& rec);

// Runs the check once in the running container, records the result, emits the event of
// a status change; true when the check passed. Throws when the container has no check or
// is not running.
bool run_health_check(const EngineContext& ctx, const ContainerRecord& rec);

}  // namespace husk::engine
