#include "engine/health.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/events.h"
#include "engine/options.h"
#include "engine/record.h"
#include "engine/run.h"
#include "oci/image/types.h"
#include "runtime/container.h"
#include "runtime/state.h"
#include "sys/clock.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/log.h"

namespace husk::engine {

using nlohmann::json;

namespace {

constexpr size_t kMaxOutput = 4096;  // docker keeps this much of a probe's output
constexpr size_t kMaxLog = 5;

int64_t rfc3339_ns(const std::string& s) {
    std::tm tm{};
    const char* end = ::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    return end ? static_cast<int64_t>(::timegm(&tm)) * 1000000000 : 0;
}

std::string health_file(const std::string& data_root, const std::string& id) {
    return Containers(data_root).dir(id) + "/health.json";
}

}  // namespace

int64_t parse_health_duration(const char* flag, const std::string& text) {
    if (text.empty()) return 0;
    auto d = parse_go_duration(text);
    if (!d) bad_flag(flag, text, fmt::format("time: invalid duration \"{}\"", text));
    if (*d < 0) throw Error(fmt::format("{} cannot be negative", flag), ExitCode{125});
    return *d;
}

std::optional<HealthConfig> resolve_health(const HealthFlags& f,
                                           const oci::image::ImageHealthcheck* image) {
    int64_t interval = parse_health_duration("--health-interval", f.interval);
    int64_t timeout = parse_health_duration("--health-timeout", f.timeout);
    int64_t start = parse_health_duration("--health-start-period", f.start_period);
    int64_t start_interval = parse_health_duration("--health-start-interval", f.start_interval);
    if (f.retries && *f.retries < 0)
        throw Error("--health-retries cannot be negative", ExitCode{125});
    // docker: an interval or timeout under 1 ms (but 0: the default) is refused
    for (auto [flag, v] : {std::pair{"--health-interval", interval},
                           {"--health-timeout", timeout},
                           {"--health-start-interval", start_interval}})
        if (v != 0 && v < 1000000)
            throw Error(fmt::format("{} cannot be less than 1ms", flag), ExitCode{125});
    if (f.none) {
        if (!f.cmd.empty())
            throw Error("--no-healthcheck conflicts with --health-* options", ExitCode{125});
        return std::nullopt;
    }
    HealthConfig c;
    if (image) {
        c.test = image->test;
        if (image->interval) c.interval_ns = image->interval;
        if (image->timeout) c.timeout_ns = image->timeout;
        if (image->start_period) c.start_period_ns = image->start_period;
        if (image->start_interval) c.start_interval_ns = image->start_interval;
        if (image->retries) c.retries = image->retries;
    }
    if (!f.cmd.empty()) c.test = {"CMD-SHELL", f.cmd};
    if (interval) c.interval_ns = interval;
    if (timeout) c.timeout_ns = timeout;
    if (start) c.start_period_ns = start;
    if (start_interval) c.start_interval_ns = start_interval;
    if (f.retries && *f.retries > 0) c.retries = *f.retries;
    if (c.test.empty() || c.test[0] == "NONE") return std::nullopt;
    if ((c.test[0] != "CMD" && c.test[0] != "CMD-SHELL") || c.test.size() < 2)
        throw Error(
            fmt::format("health check test: expected CMD or CMD-SHELL and a command, got {}",
                        json(c.test).dump()),
            ExitCode{125});
    return c;
}

json health_config_json(const HealthConfig& h) {
    json j{{"Test", h.test},
           {"Interval", h.interval_ns},
           {"Timeout", h.timeout_ns},
           {"StartPeriod", h.start_period_ns},
           {"Retries", h.retries}};
    if (h.start_interval_ns) j["StartInterval"] = h.start_interval_ns;  // omitempty, as docker's
    return j;
}

int64_t health_start_interval_ms(const HealthConfig& h) {
    constexpr int64_t docker_default_ns = 5'000'000'000;
    if (h.start_period_ns == 0) return 0;
    return (h.start_interval_ns ? h.start_interval_ns : docker_default_ns) / 1'000'000;
}

HealthConfig health_config_from(const json& j) {
    HealthConfig h;
    h.test = j.value("Test", std::vector<std::string>{});
    h.interval_ns = j.value("Interval", h.interval_ns);
    h.timeout_ns = j.value("Timeout", h.timeout_ns);
    h.start_period_ns = j.value("StartPeriod", h.start_period_ns);
    h.start_interval_ns = j.value("StartInterval", h.start_interval_ns);
    h.retries = j.value("Retries", h.retries);
    return h;
}

json health_state_json(const HealthState& s) {
    json log = json::array();
    for (auto& r : s.log)
        log.push_back(
            {{"Start", r.start}, {"End", r.end}, {"ExitCode", r.exit_code}, {"Output", r.output}});
    return json{{"Status", s.status}, {"FailingStreak", s.failing_streak}, {"Log", log}};
}

HealthState health_state_from(const json& j) {
    HealthState s;
    s.status = j.value("Status", "starting");
    s.failing_streak = j.value("FailingStreak", 0);
    if (auto l = j.find("Log"); l != j.end() && l->is_array())
        for (auto& r : *l)
            s.log.push_back({r.value("Start", ""), r.value("End", ""), r.value("ExitCode", -1),
                             r.value("Output", "")});
    return s;
}

HealthState next_health_state(HealthState s, const HealthConfig& c, const HealthResult& r,
                              bool in_start_period) {
    s.log.push_back(r);
    if (s.log.size() > kMaxLog) s.log.erase(s.log.begin(), s.log.end() - kMaxLog);
    if (r.exit_code == 0) {
        s.status = "healthy";
        s.failing_streak = 0;
    } else if (!(in_start_period && s.status == "starting")) {
        ++s.failing_streak;
        if (s.failing_streak >= c.retries) s.status = "unhealthy";
    }
    return s;
}

std::optional<HealthState> load_health(const std::string& data_root, const ContainerRecord& rec) {
    if (!rec.health) return std::nullopt;
    auto text = sys::read_file_if_exists(health_file(data_root, rec.id));
    if (!text) return HealthState{};
    try {
        return health_state_from(json::parse(*text));
    } catch (const std::exception& e) {
        log::warn("container {}: health.json: {}", rec.id, e.what());
        return HealthState{};
    }
}

void reset_health(const std::string& data_root, const ContainerRecord& rec) {
    if (!rec.health) return;
    sys::write_file_atomic(health_file(data_root, rec.id), health_state_json({}).dump());
}

namespace {

// Runs `args` in the container with stdout and stderr captured, killed at the timeout.
HealthResult probe(const EngineContext& ctx, const ContainerRecord& rec, const HealthConfig& c) {
    HealthResult r;
    r.start = runtime::now_rfc3339();
    runtime::ExecOptions o;
    o.root = ctx.state_root();
    o.id = rec.id;
    if (c.test[0] == "CMD-SHELL")
        o.args = {"/bin/sh", "-c", c.test[1]};
    else
        o.args.assign(c.test.begin() + 1, c.test.end());
    std::string pid_file = Containers(ctx.data_root).dir(rec.id) + "/health.pid";
    ::unlink(pid_file.c_str());
    o.pid_file = pid_file;
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) throw_sys("pipe2");
    sys::UniqueFd rd(p[0]), wr(p[1]);
    std::fflush(nullptr);
    pid_t child = ::fork();
    if (child < 0) throw_sys("fork");
    if (child == 0) {
        int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        ::dup2(null, STDIN_FILENO);
        ::dup2(wr.get(), STDOUT_FILENO);
        ::dup2(wr.get(), STDERR_FILENO);
        int code = 126;
        try {
            code = runtime::exec(o);
        } catch (const std::exception& e) {
            fmt::print(stderr, "{}\n", e.what());
        }
        std::fflush(nullptr);
        ::_exit(code);
    }
    wr.reset();
    int64_t deadline = sys::realtime_ns() + c.timeout_ns;
    bool timed_out = false;
    char buf[4096];
    for (;;) {
        int64_t left = deadline - sys::realtime_ns();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        pollfd pf{rd.get(), POLLIN, 0};
        int n = ::poll(&pf, 1, static_cast<int>(std::min<int64_t>(left / 1000000 + 1, 60000)));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) continue;
        ssize_t got = ::read(rd.get(), buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        if (r.output.size() < kMaxOutput)
            r.output.append(buf, std::min(static_cast<size_t>(got), kMaxOutput - r.output.size()));
    }
    if (timed_out) {  // the probe in the container first, then the husk that waits for it
        if (auto pid = sys::read_file_if_exists(pid_file); pid && std::atoi(pid->c_str()) > 0)
            ::kill(std::atoi(pid->c_str()), SIGKILL);
        ::kill(child, SIGKILL);
    }
    int st = 0;
    while (::waitpid(child, &st, 0) < 0 && errno == EINTR) {
    }
    ::unlink(pid_file.c_str());
    r.end = runtime::now_rfc3339();
    if (timed_out) {
        r.exit_code = -1;
        r.output = fmt::format("Health check exceeded timeout ({}s)", c.timeout_ns / 1000000000.0);
    } else {
        r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        if (r.exit_code != 0 && r.exit_code != 1 && r.exit_code != -1)
            r.exit_code = 1;  // docker: any failure is unhealthy
    }
    return r;
}

}  // namespace

bool run_health_check(const EngineContext& ctx, const ContainerRecord& rec) {
    if (!rec.health) throw Error(fmt::format("container {} has no health check", rec.name));
    if (rec.status != ContainerStatus::running)
        throw Error(fmt::format("container {} is not running", rec.name));
    HealthResult r = probe(ctx, rec, *rec.health);
    Containers db(ctx.data_root);
    auto lk = db.lock(rec.id);
    auto now = db.find(rec.id);
    if (!now || now->status != ContainerStatus::running || now->started != rec.started)
        return r.exit_code == 0;  // gone or restarted meanwhile: the result is stale
    HealthState before = load_health(ctx.data_root, *now).value_or(HealthState{});
    bool in_start = sys::realtime_ns() < rfc3339_ns(now->started) + now->health->start_period_ns;
    HealthState after = next_health_state(before, *now->health, r, in_start);
    sys::write_file_atomic(health_file(ctx.data_root, rec.id), health_state_json(after).dump());
    if (after.status != before.status)
        emit_container_event(ctx.data_root, *now, "health_status: " + after.status);
    return r.exit_code == 0;
}

}  // namespace husk::engine
