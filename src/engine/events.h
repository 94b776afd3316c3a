// The event journal: what happened to containers, images, volumes and networks, as
// docker's events API says it, written by every husk process and every container's
// monitor, with no daemon to collect them.
//
// <data root>/events/events.jsonl holds one JSON object per line in docker's shape:
//   {"status":"die","id":"3f2a…","from":"busybox","Type":"container","Action":"die",
//    "Actor":{"ID":"3f2a…","Attributes":{"exitCode":"1","image":"busybox","name":"web"}},
//    "scope":"local","time":1765000000,"timeNano":1765000000123456789}
// Each line is one O_APPEND write of at most kMaxLine bytes, so concurrent writers never
// interleave; when the file passes kMaxJournal bytes a writer renames it to events.jsonl.1
// (under events/.lock, the previous .1 dropped): the journal stays bounded.
//
// To emit an event from a command: engine::emit_event(data_root, {"image", "pull", ref, {}}).
// Emitting never throws: an event that cannot be written is a warning, never a failure
// of the command that did the work.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace husk::engine {

struct ContainerRecord;

struct Event {
    std::string type;    // "container", "image", "volume", "network"
    std::string action;  // "create", "start", "die", "pull", "destroy", "health_status: healthy"
    std::string id;      // Actor.ID: the container id, the image reference, the volume name
    std::map<std::string, std::string> attributes;  // Actor.Attributes (name, image, exitCode)
    int64_t time_nano = 0;                          // set by emit_event when 0
};

inline constexpr size_t kMaxLine = 4096;                      // PIPE_BUF: one atomic append
inline constexpr int64_t kMaxJournal = int64_t{1024} * 1024;  // then rotated to events.jsonl.1

// <data root>/events/events.jsonl (the monitor is given this path).
std::string journal_path(const std::string& data_root);

// Appends `e` (stamped now when its time is 0) to the journal. Never throws.
void emit_event(const std::string& data_root, Event e);
// A container event with docker's attributes (name, image) and `extra` (exitCode, signal).
void emit_container_event(const std::string& data_root, const ContainerRecord& rec,
                          std::string_view action,
                          const std::map<std::string, std::string>& extra = {});

// An image event (pull, untag, delete): Actor.ID the reference (or id), name attribute.
void emit_image_event(const std::string& data_root, std::string_view action,
                      const std::string& ref);

// The journal line of `e` (docker's shape, without the newline); at most kMaxLine - 1
// bytes (attributes shortened when needed).
std::string event_line(const Event& e);
// An event from a journal line; nullopt for a line that is not one.
std::optional<Event> parse_event_line(std::string_view line);
// docker's text form: "2026-12-06T06:04:44.123456789Z container die 3f2a… (exitCode=1, name=web)"
std::string event_text(const Event& e);

// --filter k=v of `husk events`: type, event (the action, "health_status" matches every
// "health_status: …"), container (id, id prefix or name), image, volume, network, label.
// Values of one key are alternatives; different keys must all match.
class EventFilter {
  public:
    // Throws `invalid filter 'x'` (no "=") or `invalid filter key 'k'`.
    void add(std::string_view k_equals_v);
    bool matches(const Event& e) const;

  private:
    std::map<std::string, std::vector<std::string>> by_key_;
};

// --since/--until: unix seconds ("1765000000", "1765000000.5"), RFC 3339
// ("2026-12-06T06:00:00Z") or a duration before now ("10m", "1h30m", "45s") -- the forms
// of `husk logs --since`. Throws `invalid value for "until": "x"` naming `flag` (exit 125).
int64_t parse_event_time(std::string_view flag, std::string_view s);

struct EventQuery {
    std::optional<int64_t> since_nano, until_nano;
    EventFilter filter;
    bool follow = true;  // after the past ones, wait for new events (until until_nano)
};

// Calls `out` for every event of the journal (rotated part first) that matches, in order;
// then, with `follow`, for each new one as it is written (inotify, no polling), until
// `until_nano` passes or `out` returns false.
void read_events(const std::string& data_root, const EventQuery& q,
                 const std::function<bool(const Event&)>& out);

}  // namespace husk::engine
