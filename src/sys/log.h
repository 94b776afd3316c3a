// Logging for the runtime and the engine. The CLI decides where lines go
// (stderr, or a --log file in text or runc's JSON format).
#pragma once

#include <string>
#include <string_view>

#include <fmt/format.h>

namespace husk::log {

enum class Level { debug, info, warn, error };
enum class Format { text, json };

// Send log lines to `path` (opened for append; empty = stderr) in `format`.
void configure(const std::string& path, Format format, bool debug);
void write(Level level, std::string_view msg);
bool debug_enabled();
// The current UTC time as RFC 3339 with nanoseconds ("2026-11-22T10:28:15.123456789Z").
std::string now_rfc3339();

template <class... A>
void debug(fmt::format_string<A...> f, A&&... a) {
    if (debug_enabled()) write(Level::debug, fmt::format(f, std::forward<A>(a)...));
}
template <class... A>
void info(fmt::format_string<A...> f, A&&... a) {
    write(Level::info, fmt::format(f, std::forward<A>(a)...));
}
template <class... A>
void warn(fmt::format_string<A...> f, A&&... a) {
    write(Level::warn, fmt::format(f, std::forward<A>(a)...));
}
template <class... A>
void error(fmt::format_string<A...> f, A&&... a) {
    write(Level::error, fmt::format(f, std::forward<A>(a)...));
}

}  // namespace husk::log
