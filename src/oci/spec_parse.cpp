// config.json text -> JSON with paths in its errors, the checks the field tables'
// rules share, and load_spec. The tables themselves are in spec_fields.cpp.
#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <functional>

#include "oci/parse_parts.h"
#include "sys/fd.h"
#include "sys/fileutil.h"

namespace husk::oci {

namespace detail {

namespace {

// Where a callback parse is in the document: a JSON path such as
// "linux.resources.memory.limit", for the errors nlohmann reports without one.
class PathTracker {
  public:
    bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
        switch (event) {
            case json::parse_event_t::object_start:
                frames_.push_back({false, {}, 0});
                break;
            case json::parse_event_t::array_start:
                frames_.push_back({true, {}, 0});
                break;
            case json::parse_event_t::key:
                frames_.back().key = parsed.get<std::string>();
                break;
            case json::parse_event_t::object_end:
            case json::parse_event_t::array_end:
                frames_.pop_back();
                next_element();
                break;
            case json::parse_event_t::value:
                next_element();
                break;
        }
        return true;
    }
    std::string path() const {
        std::string p;
        for (const auto& f : frames_) p = f.array ? at_index(p, f.index) : child(p, f.key);
        return p;
    }

  private:
    struct Frame {
        bool array;
        std::string key;
        size_t index;
    };
    void next_element() {
        if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
    }
    std::vector<Frame> frames_;
};

// nlohmann's message without its "[json.exception.parse_error.101] " prefix, and with the
// text it last read (a whole unterminated string, it may be) shown as a value.
std::string nlohmann_message(const json::exception& e) {
    std::string msg = e.what();
    if (auto pos = msg.find("] "); pos != std::string::npos) msg.erase(0, pos + 2);
    static constexpr std::string_view kLastRead = "; last read: '";
    auto lr = msg.find(kLastRead);
    if (lr == std::string::npos) return msg;
    size_t from = lr + kLastRead.size();
    auto to = msg.find("'; expected ", from);
    if (to == std::string::npos) to = msg.size() - 1;
    if (to < from) return msg;
    return msg.substr(0, from) + shown(std::string_view(msg).substr(from, to - from)) +
           msg.substr(to);
}

}  // namespace

json parse_json(const std::string& text) {
    try {
        return json::parse(text);
    } catch (const json::parse_error& e) {
        // "parse error at line 1, column 2: syntax error while parsing ..."
        throw Error("invalid JSON: " + nlohmann_message(e));
    } catch (const json::out_of_range& e) {
        // 406 "number overflow parsing '1e400'": a number beyond a double. Parse again,
        // on this rare path only, to say which field holds it.
        std::string msg = nlohmann_message(e);
        auto q = msg.find('\'');
        std::string number = q == std::string::npos ? msg : msg.substr(q + 1, msg.size() - q - 2);
        PathTracker where;
        try {
            [[maybe_unused]] json never = json::parse(text, std::ref(where));
        } catch (const json::exception&) {
        }
        fail(where.path(), "number {} is out of range", number);
    }
}

void check_name(NameList list, const std::string& value, const std::string& path,
                std::string_view what) {
    if (!contains(list, value)) fail(path, "unknown {} \"{}\"", what, value);
}

void check_absolute(const std::string& value, const std::string& path) {
    if (value.empty() || value[0] != '/') fail(path, "must be an absolute path, got \"{}\"", value);
}

void check_cpu_list(const std::string& value, const std::string& path) {
    // item := N | N-M (N <= M); list := item (',' item)*
    auto bad = [&] { fail(path, "invalid CPU list \"{}\"", value); };
    size_t i = 0, n = value.size();
    auto number = [&](uint64_t& out) {
        if (i >= n || !std::isdigit(static_cast<unsigned char>(value[i]))) bad();
        out = 0;
        while (i < n && std::isdigit(static_cast<unsigned char>(value[i]))) {
            out = out * 10 + static_cast<uint64_t>(value[i++] - '0');
            if (out > 1'000'000) bad();
        }
    };
    if (value.empty()) bad();
    while (true) {
        uint64_t lo = 0, hi = 0;
        number(lo);
        if (i < n && value[i] == '-') {
            ++i;
            number(hi);
            if (hi < lo) bad();
        }
        if (i == n) return;
        if (value[i++] != ',') bad();
    }
}

}  // namespace detail

using namespace detail;

Spec load_spec(const std::string& path) {
    sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_sys("open", path);
    std::string text = sys::read_to_end(fd.get(), path);
    return with_context(path, [&] { return parse_spec(text); });
}

}  // namespace husk::oci
