#include "sys/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "sys/syscalls.h"

namespace husk::log {
namespace {

struct Sink {
    int fd = 2;
    Format format = Format::text;
    bool debug = false;
};
Sink g_sink;

const char* level_name(Level l) {
    switch (l) {
        case Level::debug:
            return "debug";
        case Level::info:
            return "info";
        case Level::warn:
            return "warning";
        case Level::error:
            return "error";
    }
    return "info";
}

}  // namespace

std::string now_rfc3339() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    // The calendar by arithmetic: glibc's gmtime_r (and strftime) read the time zone
    // (/etc/localtime, 6 syscalls and a parse in every create) for a UTC time.
    using namespace std::chrono;
    const sys_seconds secs{seconds{ts.tv_sec}};
    const sys_days day = floor<days>(secs);
    const year_month_day ymd{day};
    const hh_mm_ss hms{secs - day};
    char buf[64];
    snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%09ldZ", static_cast<int>(ymd.year()),
             static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
             static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
             static_cast<int>(hms.seconds().count()), ts.tv_nsec);
    return buf;
}

void configure(const std::string& path, Format format, bool debug) {
    g_sink.format = format;
    g_sink.debug = debug;
    if (!path.empty()) {
        int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) {
            if (g_sink.fd > 2) ::close(g_sink.fd);
            g_sink.fd = fd;
        }
    }
}

bool debug_enabled() {
    return g_sink.debug;
}

void write(Level level, std::string_view msg) {
    std::string line;
    if (g_sink.format == Format::json) {
        nlohmann::json j{
            {"level", level_name(level)}, {"msg", std::string(msg)}, {"time", now_rfc3339()}};
        line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    } else if (g_sink.fd == 2) {
        line = fmt::format("{}: {}\n", level_name(level), msg);
    } else {
        nlohmann::json m = std::string(msg);
        line = fmt::format("time=\"{}\" level={} msg={}\n", now_rfc3339(), level_name(level),
                           m.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    (void)sys::write_all(g_sink.fd, line.data(), line.size());
}

}  // namespace husk::log
