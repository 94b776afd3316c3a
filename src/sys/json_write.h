// A few JSON values written by hand, for the files husk-runtime writes on every start
// (state.json, its cgroup record): nlohmann's serializer decodes every byte as UTF-8 and
// cost ~40 instructions a byte there. The output is what nlohmann's dump() makes of the
// same values (compact, keys in the order given, non-ASCII UTF-8 kept as it is), so
// either reads what the other wrote.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace husk::sys {

// `s` as a quoted JSON string appended to `out`; throws husk::Error on invalid UTF-8
// (JSON text is UTF-8), naming `what` (e.g. "bundle").
void append_json_string(std::string& out, std::string_view s, std::string_view what);

// One object written member by member: `JsonObject o(out); o.key("id").string(v); ...;
// o.close();` The caller gives the keys in the order they are to appear.
class JsonObject {
  public:
    explicit JsonObject(std::string& out) : out_(out) { out_ += '{'; }
    JsonObject& key(std::string_view k) {
        if (!first_) out_ += ',';
        first_ = false;
        append_json_string(out_, k, "key");
        out_ += ':';
        return *this;
    }
    JsonObject& string(std::string_view v, std::string_view what) {
        append_json_string(out_, v, what);
        return *this;
    }
    JsonObject& boolean(bool v) {
        out_ += v ? "true" : "false";
        return *this;
    }
    JsonObject& integer(int64_t v);
    JsonObject& unsigned_integer(uint64_t v);
    // A value the caller wrote itself (an object or array).
    std::string& raw() { return out_; }
    void close() { out_ += '}'; }

  private:
    std::string& out_;
    bool first_ = true;
};

}  // namespace husk::sys
