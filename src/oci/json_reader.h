// Internal to src/oci: typed, path-tracking access to a parsed JSON document.
// Every failure throws husk::Error "<json.path>: <problem>", e.g.
//   linux.resources.memory.limit: expected integer, got string
// JSON null counts as absent (as Go's encoding/json treats it for runc).
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sys/error.h"

namespace husk::oci::detail {

using json = nlohmann::json;

// Throws husk::Error "<path>: <problem>", the problem formatted by error_format (string
// arguments are values: cut and escaped there; so is a long path).
template <class... T>
[[noreturn]] void fail(const std::string& path, fmt::format_string<husk::detail::shown_t<T>...> f,
                       const T&... args) {
    std::string problem = error_format(f, args...);
    throw Error(path.empty() ? problem : shown(path) + ": " + problem);
}

// The JSON type of `j` as a user reads it ("string", "integer", "object", ...).
inline const char* kind(const json& j) {
    switch (j.type()) {
        case json::value_t::null:
            return "null";
        case json::value_t::object:
            return "object";
        case json::value_t::array:
            return "array";
        case json::value_t::string:
            return "string";
        case json::value_t::boolean:
            return "boolean";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned:
            return "integer";
        case json::value_t::number_float:
            return "number";
        default:
            return "unknown";
    }
}

// The paths are made for every field read, error or not: plain appends (no format string,
// and no allocation while they fit std::string's inline buffer), not fmt::format.
inline std::string child(const std::string& path, std::string_view key) {
    if (path.empty()) return std::string(key);
    std::string p;
    p.reserve(path.size() + 1 + key.size());
    p.append(path).append(1, '.').append(key);
    return p;
}
inline std::string at_index(const std::string& path, size_t i) {
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, i).ptr;
    std::string p;
    p.reserve(path.size() + 2 + static_cast<size_t>(end - digits));
    p.append(path).append(1, '[').append(digits, end).append(1, ']');
    return p;
}
inline std::string at_key(const std::string& path, std::string_view key) {
    std::string p;
    p.reserve(path.size() + 4 + key.size());
    p.append(path).append("[\"").append(key).append("\"]");
    return p;
}

template <class T>
const char* int_name() {
    if constexpr (std::is_same_v<T, uint8_t>) return "uint8";
    if constexpr (std::is_same_v<T, uint16_t>) return "uint16";
    if constexpr (std::is_same_v<T, uint32_t>) return "uint32";
    if constexpr (std::is_same_v<T, uint64_t>) return "uint64";
    if constexpr (std::is_same_v<T, int32_t>) return "int32";
    if constexpr (std::is_same_v<T, int64_t>) return "int64";
    return "integer";
}

// An integer of type T; a float, a string or an out-of-range number is an error.
template <class T>
T to_int(const json& j, const std::string& path) {
    static_assert(std::is_integral_v<T>);
    if (j.is_number_unsigned()) {
        auto v = j.get<uint64_t>();
        if (v > static_cast<uint64_t>(std::numeric_limits<T>::max()))
            fail(path, "{} is out of range for {}", v, int_name<T>());
        return static_cast<T>(v);
    }
    if (j.is_number_integer()) {
        auto v = j.get<int64_t>();
        if constexpr (std::is_unsigned_v<T>) {
            if (v < 0) fail(path, "{} is out of range for {}", v, int_name<T>());
            if (static_cast<uint64_t>(v) > static_cast<uint64_t>(std::numeric_limits<T>::max()))
                fail(path, "{} is out of range for {}", v, int_name<T>());
        } else {
            if (v < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
                v > static_cast<int64_t>(std::numeric_limits<T>::max()))
                fail(path, "{} is out of range for {}", v, int_name<T>());
        }
        return static_cast<T>(v);
    }
    if (j.is_number_float()) {
        double d = j.get<double>();
        if (std::isfinite(d) && std::floor(d) == d)  // integral but beyond 64 bits
            fail(path, "{} is out of range for {}", j.dump(), int_name<T>());
        fail(path, "expected integer, got number {}", j.dump());
    }
    fail(path, "expected integer, got {}", kind(j));
}

// A NUL cannot pass into the C strings the kernel takes (argv, paths, hostnames): it
// would cut the value short without a word. Refused wherever JSON text says \u0000.
inline void check_no_nul(const std::string& s, const std::string& path) {
    if (s.find('\0') != std::string::npos) fail(path, "\"{}\" contains a NUL byte", s);
}

inline std::string to_str(const json& j, const std::string& path) {
    if (!j.is_string()) fail(path, "expected string, got {}", kind(j));
    std::string s = j.get<std::string>();
    check_no_nul(s, path);
    return s;
}

inline bool to_bool(const json& j, const std::string& path) {
    if (!j.is_boolean()) fail(path, "expected boolean, got {}", kind(j));
    return j.get<bool>();
}

// A JSON object at `path`, with typed getters for its members.
class Obj {
  public:
    Obj(const json& j, std::string path) : j_(j), path_(std::move(path)) {
        if (!j.is_object()) fail(path_, "expected object, got {}", kind(j));
    }

    const std::string& path() const { return path_; }
    std::string path(std::string_view key) const { return child(path_, key); }

    // The member, or nullptr when absent or null.
    const json* get(std::string_view key) const {
        auto it = j_.find(key);
        if (it == j_.end() || it->is_null()) return nullptr;
        return &*it;
    }
    bool has(std::string_view key) const { return get(key) != nullptr; }

    Obj obj(std::string_view key) const { return Obj(*get(key), path(key)); }

    template <class T>
    std::optional<T> opt_int(std::string_view key) const {
        if (auto* v = get(key)) return to_int<T>(*v, path(key));
        return std::nullopt;
    }
    template <class T>
    T int_or(std::string_view key, T def) const {
        return opt_int<T>(key).value_or(def);
    }
    std::optional<std::string> opt_str(std::string_view key) const {
        if (auto* v = get(key)) return to_str(*v, path(key));
        return std::nullopt;
    }
    std::string str(std::string_view key) const { return opt_str(key).value_or(""); }
    std::string required_str(std::string_view key) const {
        auto v = opt_str(key);
        if (!v) fail(path(key), "required");
        return *v;
    }
    std::optional<bool> opt_bool(std::string_view key) const {
        if (auto* v = get(key)) return to_bool(*v, path(key));
        return std::nullopt;
    }
    bool boolean(std::string_view key) const { return opt_bool(key).value_or(false); }

    // Calls fn(element, element_path) for each element of the array `key`.
    template <class Fn>
    void each(std::string_view key, Fn&& fn) const {
        const json* a = get(key);
        if (!a) return;
        auto p = path(key);
        if (!a->is_array()) fail(p, "expected array, got {}", kind(*a));
        for (size_t i = 0; i < a->size(); ++i) fn((*a)[i], at_index(p, i));
    }
    // Calls fn(name, value, value_path) for each member of the object `key`.
    template <class Fn>
    void each_member(std::string_view key, Fn&& fn) const {
        const json* o = get(key);
        if (!o) return;
        auto p = path(key);
        if (!o->is_object()) fail(p, "expected object, got {}", kind(*o));
        for (auto it = o->begin(); it != o->end(); ++it) {
            check_no_nul(it.key(), at_key(p, it.key()));
            fn(it.key(), it.value(), at_key(p, it.key()));
        }
    }

    std::vector<std::string> str_list(std::string_view key) const {
        std::vector<std::string> out;
        each(key, [&](const json& e, const std::string& p) { out.push_back(to_str(e, p)); });
        return out;
    }
    template <class T>
    std::vector<T> int_list(std::string_view key) const {
        std::vector<T> out;
        each(key, [&](const json& e, const std::string& p) { out.push_back(to_int<T>(e, p)); });
        return out;
    }
    std::map<std::string, std::string> str_map(std::string_view key) const {
        std::map<std::string, std::string> out;
        each_member(key, [&](const std::string& k, const json& v, const std::string& p) {
            out[k] = to_str(v, p);
        });
        return out;
    }

  private:
    const json& j_;
    std::string path_;
};

// Parse JSON text; a syntax error becomes "invalid JSON: ..." with the line and column,
// a number beyond what a double holds "<json.path>: number 1e400 is out of range".
json parse_json(const std::string& text);

}  // namespace husk::oci::detail
