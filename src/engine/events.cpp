#include "engine/events.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/logs.h"
#include "engine/record.h"
#include "sys/clock.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/log.h"

namespace husk::engine {

namespace {

using ojson = nlohmann::ordered_json;

std::string events_dir(const std::string& data_root) {
    return data_root + "/events";
}

ojson to_json(const Event& e, size_t max_value) {
    ojson attrs = ojson::object();
    for (auto& [k, v] : e.attributes) attrs[k] = v.size() > max_value ? v.substr(0, max_value) : v;
    ojson j = ojson::object();
    if (e.type == "container") {  // docker's older fields, kept for containers
        j["status"] = e.action;
        j["id"] = e.id;
        auto img = e.attributes.find("image");
        j["from"] = img == e.attributes.end() ? "" : img->second;
    }
    j["Type"] = e.type;
    j["Action"] = e.action;
    j["Actor"] = {{"ID", e.id}, {"Attributes", attrs}};
    j["scope"] = "local";
    j["time"] = e.time_nano / 1000000000;
    j["timeNano"] = e.time_nano;
    return j;
}

// Rotates the journal when it has grown past kMaxJournal: under events/.lock, and only
// if the file at the path is still the big one (another writer may have rotated it).
void rotate_if_big(const std::string& data_root, int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_size < kMaxJournal) return;
    sys::FileLock lock(events_dir(data_root) + "/.lock", sys::FileLock::exclusive);
    std::string path = journal_path(data_root);
    struct stat now {};
    if (::stat(path.c_str(), &now) != 0 || now.st_ino != st.st_ino || now.st_size < kMaxJournal)
        return;
    if (::rename(path.c_str(), (path + ".1").c_str()) != 0) throw_sys("rename", path);
}

}  // namespace

std::string journal_path(const std::string& data_root) {
    return events_dir(data_root) + "/events.jsonl";
}

std::string event_line(const Event& e) {
    std::string line = to_json(e, SIZE_MAX).dump();
    for (size_t max = 256; line.size() >= kMaxLine && max > 0; max /= 4)
        line = to_json(e, max).dump();
    return line;
}

void emit_event(const std::string& data_root, Event e) {
    if (e.time_nano == 0) e.time_nano = sys::realtime_ns();
    try {
        std::string line = event_line(e) + "\n";
        sys::mkdir_all(events_dir(data_root), 0700);
        std::string path = journal_path(data_root);
        sys::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
        if (!fd) throw_sys("open", path);
        // one write: O_APPEND puts it whole at the end, whoever else is writing
        ssize_t n = ::write(fd.get(), line.data(), line.size());
        if (n != static_cast<ssize_t>(line.size())) throw_sys("write", path);
        rotate_if_big(data_root, fd.get());
    } catch (const std::exception& ex) {
        log::warn("event {} {} not recorded: {}", e.type, e.action, ex.what());
    }
}

void emit_container_event(const std::string& data_root, const ContainerRecord& rec,
                          std::string_view action,
                          const std::map<std::string, std::string>& extra) {
    Event e{"container", std::string(action), rec.id, extra, 0};
    e.attributes["name"] = rec.name;
    e.attributes["image"] = rec.image.empty() ? rec.rootfs : rec.image;
    emit_event(data_root, std::move(e));
}

void emit_image_event(const std::string& data_root, std::string_view action,
                      const std::string& ref) {
    emit_event(data_root, {"image", std::string(action), ref, {{"name", ref}}, 0});
}

std::optional<Event> parse_event_line(std::string_view line) {
    try {
        auto j = nlohmann::json::parse(line);
        if (!j.is_object() || !j.contains("Type") || !j.contains("Action")) return std::nullopt;
        Event e;
        e.type = j.at("Type").get<std::string>();
        e.action = j.at("Action").get<std::string>();
        if (auto a = j.find("Actor"); a != j.end() && a->is_object()) {
            e.id = a->value("ID", "");
            if (auto at = a->find("Attributes"); at != a->end() && at->is_object())
                for (auto& [k, v] : at->items())
                    if (v.is_string()) e.attributes[k] = v.get<std::string>();
        }
        e.time_nano = j.value("timeNano", static_cast<int64_t>(0));
        return e;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::string event_text(const Event& e) {
    time_t secs = static_cast<time_t>(e.time_nano / 1000000000);
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    char ts[32];
    std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    std::string attrs;
    for (auto& [k, v] : e.attributes)
        attrs += fmt::format("{}{}={}", attrs.empty() ? "" : ", ", k, v);
    return fmt::format("{}.{:09}Z {} {} {}{}", ts, e.time_nano % 1000000000, e.type, e.action, e.id,
                       attrs.empty() ? "" : fmt::format(" ({})", attrs));
}

void EventFilter::add(std::string_view kv) {
    auto eq = kv.find('=');
    if (eq == std::string_view::npos || eq == 0)
        throw Error(fmt::format("invalid filter '{}'", kv), ExitCode{125});
    std::string key(kv.substr(0, eq));
    static const char* const keys[] = {"type",   "event",   "container", "image",
                                       "volume", "network", "label"};
    bool known = false;
    for (const char* k : keys) known = known || key == k;
    if (!known) throw Error(fmt::format("invalid filter key '{}'", key), ExitCode{125});
    by_key_[key].emplace_back(kv.substr(eq + 1));
}

bool EventFilter::matches(const Event& e) const {
    auto attr = [&](const char* k) {
        auto it = e.attributes.find(k);
        return it == e.attributes.end() ? std::string() : it->second;
    };
    for (auto& [key, values] : by_key_) {
        bool any = false;
        for (auto& v : values) {
            if (key == "type") {
                any = e.type == v;
            } else if (key == "event") {
                any = e.action == v || e.action.starts_with(v + ":");
            } else if (key == "container") {
                any = e.type == "container" &&
                      ((!v.empty() && e.id.starts_with(v)) || attr("name") == v);
            } else if (key == "image") {
                any = attr("image") == v || (e.type == "image" && e.id == v);
            } else if (key == "volume" || key == "network") {
                any = e.type == key && (e.id == v || attr("name") == v);
            } else if (key == "label") {
                auto eq = v.find('=');
                auto it = e.attributes.find(v.substr(0, eq));
                any = it != e.attributes.end() &&
                      (eq == std::string::npos || it->second == v.substr(eq + 1));
            }
            if (any) break;
        }
        if (!any) return false;
    }
    return true;
}

int64_t parse_event_time(std::string_view flag, std::string_view s) {
    if (s.empty()) throw Error(fmt::format("invalid value for \"{}\": \"\"", flag), ExitCode{125});
    try {
        return parse_since(std::string(s));
    } catch (const Error&) {
        throw Error(fmt::format("invalid value for \"{}\": \"{}\"", flag, s), ExitCode{125});
    }
}

namespace {

// Reads the complete lines of `fd` from where it stands, keeping a partial last line.
class LineReader {
  public:
    explicit LineReader(sys::UniqueFd fd) : fd_(std::move(fd)) {}
    bool open() const { return static_cast<bool>(fd_); }
    ino_t inode() const {
        struct stat st {};
        return ::fstat(fd_.get(), &st) == 0 ? st.st_ino : 0;
    }
    // false when `out` asked to stop
    bool drain(const std::function<bool(std::string_view)>& out) {
        char buf[65536];
        for (;;) {
            ssize_t n = ::read(fd_.get(), buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return true;
            partial_.append(buf, static_cast<size_t>(n));
            size_t start = 0, nl;
            while ((nl = partial_.find('\n', start)) != std::string::npos) {
                if (!out(std::string_view(partial_).substr(start, nl - start))) return false;
                start = nl + 1;
            }
            partial_.erase(0, start);
        }
    }

  private:
    sys::UniqueFd fd_;
    std::string partial_;
};

sys::UniqueFd open_read(const std::string& path) {
    return sys::UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
}

}  // namespace

void read_events(const std::string& data_root, const EventQuery& q,
                 const std::function<bool(const Event&)>& out) {
    std::string path = journal_path(data_root);
    bool past_until = false;
    auto take = [&](std::string_view line) {
        auto e = parse_event_line(line);
        if (!e) return true;
        if (q.until_nano && e->time_nano > *q.until_nano) {
            past_until = true;
            return false;
        }
        if (q.since_nano && e->time_nano < *q.since_nano) return true;
        if (!q.filter.matches(*e)) return true;
        return out(*e);
    };
    sys::mkdir_all(events_dir(data_root), 0700);
    // Watch before reading, so nothing written meanwhile is missed.
    sys::UniqueFd ino;
    if (q.follow) {
        ino.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
        if (!ino) throw_sys("inotify_init1");
        if (::inotify_add_watch(ino.get(), events_dir(data_root).c_str(),
                                IN_MODIFY | IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO) < 0)
            throw_sys("inotify_add_watch", events_dir(data_root));
    }
    // The rotated part first, then the journal; a rotation between the two opens is
    // caught by comparing inodes (the old file, then at .1, was already read whole).
    LineReader cur(open_read(path));
    ino_t first = cur.inode();
    {
        LineReader old(open_read(path + ".1"));
        if (old.open() && old.inode() != first && !old.drain(take)) return;
    }
    if (cur.open() && !cur.drain(take)) return;
    if (!q.follow || past_until) return;
    for (;;) {
        int timeout = -1;
        if (q.until_nano) {
            int64_t left = *q.until_nano - sys::realtime_ns();
            if (left <= 0) return;
            timeout = static_cast<int>(std::min<int64_t>(left / 1000000 + 1, 60000));
        }
        pollfd p{ino.get(), POLLIN, 0};
        int r = ::poll(&p, 1, timeout);
        if (r < 0 && errno != EINTR) throw_sys("poll", "inotify");
        if (r <= 0) continue;
        char buf[4096];
        while (::read(ino.get(), buf, sizeof buf) > 0) {
        }
        // what the open file got, then a newer file at the path from its start
        if (cur.open() && !cur.drain(take)) return;
        sys::UniqueFd fd = open_read(path);
        if (!fd) continue;
        struct stat st {};
        if (::fstat(fd.get(), &st) == 0 && (!cur.open() || st.st_ino != cur.inode())) {
            cur = LineReader(std::move(fd));
            if (!cur.drain(take)) return;
        }
    }
}

}  // namespace husk::engine
