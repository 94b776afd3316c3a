#include "engine/logs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <ctime>
#include <deque>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/run.h"
#include "sys/clock.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"

namespace husk::engine {

namespace {

struct LogEntry {
    std::string log, stream, time;
};

int64_t parse_rfc3339_ns(const std::string& s) {
    std::tm tm{};
    const char* end = ::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end) return -1;
    int64_t ns = 0;
    if (*end == '.') {
        ++end;
        int digits = 0;
        while (std::isdigit(static_cast<unsigned char>(*end))) {
            if (digits < 9) {
                ns = ns * 10 + (*end - '0');
                ++digits;
            }
            ++end;
        }
        for (; digits < 9; ++digits) ns *= 10;
    }
    int64_t offset = 0;
    if (*end == '+' || *end == '-') {
        int h = 0, m = 0;
        if (std::sscanf(end + 1, "%d:%d", &h, &m) != 2) return -1;
        offset = (h * 3600L + m * 60L) * (*end == '+' ? 1 : -1);
    } else if (*end != 'Z' && *end != '\0') {
        return -1;
    }
    return (static_cast<int64_t>(::timegm(&tm)) - offset) * 1000000000 + ns;
}

std::optional<LogEntry> parse_entry(const std::string& line) {
    try {
        auto j = nlohmann::json::parse(line);
        return LogEntry{j.value("log", ""), j.value("stream", "stdout"), j.value("time", "")};
    } catch (const std::exception&) {
        return std::nullopt;  // a torn line
    }
}

void emit(const LogEntry& e, const LogsOptions& o) {
    FILE* out = e.stream == "stderr" ? stderr : stdout;
    if (o.timestamps) fmt::print(out, "{} ", e.time);
    std::fwrite(e.log.data(), 1, e.log.size(), out);
    std::fflush(out);
}

bool wanted(const LogEntry& e, const LogsOptions& o) {
    if (o.since_ns == 0 && o.until_ns == 0) return true;
    int64_t t = parse_rfc3339_ns(e.time);
    return (o.since_ns == 0 || t >= o.since_ns) && (o.until_ns == 0 || t <= o.until_ns);
}

// The log files, oldest first.
std::vector<std::string> log_files(const std::string& base, int max_file) {
    std::vector<std::string> out;
    for (int i = std::max(max_file, 1) - 1; i >= 1; --i)
        if (sys::exists_follow(fmt::format("{}.{}", base, i)))
            out.push_back(fmt::format("{}.{}", base, i));
    out.push_back(base);
    return out;
}

// Reads whole lines from an fd, from where it stopped last time.
struct Reader {
    sys::UniqueFd fd;
    std::string partial;
    ino_t ino = 0;

    bool open(const std::string& path) {
        fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        partial.clear();
        struct stat st {};
        if (!fd || ::fstat(fd.get(), &st) != 0) return false;
        ino = st.st_ino;
        return true;
    }
    template <typename F>
    void lines(F&& each) {
        if (!fd) return;
        struct stat st {};
        if (::fstat(fd.get(), &st) == 0 && st.st_size < ::lseek(fd.get(), 0, SEEK_CUR)) {
            ::lseek(fd.get(), 0, SEEK_SET);  // truncated (rotation with max-file 1)
            partial.clear();
        }
        char buf[65536];
        for (;;) {
            ssize_t n = ::read(fd.get(), buf, sizeof buf);
            if (n <= 0) break;
            partial.append(buf, static_cast<size_t>(n));
        }
        size_t pos = 0, nl;
        while ((nl = partial.find('\n', pos)) != std::string::npos) {
            each(partial.substr(pos, nl - pos));
            pos = nl + 1;
        }
        partial.erase(0, pos);
    }
};

}  // namespace

int64_t parse_since(const std::string& text) {
    if (text.empty()) return 0;
    if (int64_t t = parse_rfc3339_ns(text); t >= 0 && text.find('T') != std::string::npos) return t;
    char* end = nullptr;
    double unix_time = std::strtod(text.c_str(), &end);
    if (end && *end == '\0' && end != text.c_str()) return static_cast<int64_t>(unix_time * 1e9);
    // a duration: 1h30m, 10m, 45s, 500ms
    std::optional<int64_t> d = parse_go_duration(text);
    if (!d || *d < 0) throw Error(fmt::format("invalid value for \"since\": \"{}\"", text));
    return sys::realtime_ns() - *d;
}

void print_logs(const EngineContext& ctx, const ContainerRecord& rec, const LogsOptions& o) {
    Containers db(ctx.data_root);
    std::string base = db.dir(rec.id) + "/" + rec.id + "-json.log";
    std::deque<LogEntry> kept;  // with --tail: the last N so far
    Reader r;
    auto take = [&](const std::string& line) {
        auto e = parse_entry(line);
        if (!e || !wanted(*e, o)) return;
        if (!o.tail) {
            emit(*e, o);
            return;
        }
        kept.push_back(std::move(*e));
        if (kept.size() > *o.tail) kept.pop_front();
    };
    auto files = log_files(base, rec.log_max_file);
    for (auto& f : files) {
        if (!r.open(f)) continue;
        r.lines(take);
    }
    for (auto& e : kept) emit(e, o);
    if (!o.follow) return;
    // follow the current file (reopened when the monitor rotates it) while it runs, and
    // with --until until that time has come (docker's follow ends there too)
    auto follow = [&](const std::string& line) {
        if (auto e = parse_entry(line); e && wanted(*e, o)) emit(*e, o);
    };
    if (!r.fd) r.open(base);
    for (;;) {
        bool running = db.monitored(rec.id);
        r.lines(follow);
        struct stat st {};
        if (::stat(base.c_str(), &st) == 0 && st.st_ino != r.ino) {
            r.lines(follow);  // the rest of the rotated file
            r.open(base);
            continue;
        }
        if (!running || (o.until_ns != 0 && sys::realtime_ns() > o.until_ns)) break;
        ::usleep(100 * 1000);
    }
}

}  // namespace husk::engine
