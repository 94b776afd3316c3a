// Internal to src/oci: a struct described once, by a table, for both directions.
//
// Each described struct S has a function `fields(Type<S>)` returning a tuple of Field:
// the member's JSON key, in the order runc writes it, what Go's encoding/json tag says
// about it (kOmitEmpty: left out when empty, zero or false; kAlways; kRequired: always
// written, and refused when absent) and the rule a present value must follow. A struct
// with rules across its members (one field's presence depending on another's value)
// also has `validate(const Obj&, const S&)`, run after its fields are read.
//
// read_struct walks the table to parse (every error names the JSON path: the
// json_reader's wording), write_struct walks it to dump.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "oci/json_reader.h"

namespace husk::oci::detail {

using ojson = nlohmann::ordered_json;

enum FieldFlags : unsigned {
    kOmitEmpty = 0,  // not written when empty, zero or false (Go's omitempty)
    kAlways = 1,     // always written
    kRequired = 3,   // always written; "required" when absent from the input
};

// The rule of a field without one.
struct NoRule {
    template <class V>
    void operator()(const V& /*value*/, const std::string& /*path*/) const {}
};

template <class S, class M, class Rule>
struct Field {
    std::string_view key;
    M S::*member;
    unsigned flags;
    Rule rule;
};

template <class S, class M, class Rule = NoRule>
constexpr Field<S, M, Rule> field(std::string_view key, M S::*member, unsigned flags = kOmitEmpty,
                                  Rule rule = {}) {
    return {key, member, flags, rule};
}

// The tag `fields` is looked up by.
template <class S>
struct Type {};

template <class T>
inline constexpr bool is_optional_v = false;
template <class T>
inline constexpr bool is_optional_v<std::optional<T>> = true;
template <class T>
inline constexpr bool is_vector_v = false;
template <class T>
inline constexpr bool is_vector_v<std::vector<T>> = true;
template <class T>
inline constexpr bool is_map_v = false;
template <class T>
inline constexpr bool is_map_v<std::map<std::string, T>> = true;

// The value a rule checks: the member itself, or what its optional holds (a rule runs
// only on a present value).
template <class T>
const auto& present(const T& v) {
    if constexpr (is_optional_v<T>)
        return *v;
    else
        return v;
}

template <class S>
void read_struct(const Obj& o, S& s);
template <class S>
ojson write_struct(const S& s);

template <class T>
void read_value(const json& j, const std::string& path, T& out) {
    if constexpr (std::is_same_v<T, std::string>) {
        out = to_str(j, path);
    } else if constexpr (std::is_same_v<T, bool>) {
        out = to_bool(j, path);
    } else if constexpr (std::is_integral_v<T>) {
        out = to_int<T>(j, path);
    } else if constexpr (is_optional_v<T>) {
        read_value(j, path, out.emplace());
    } else if constexpr (is_vector_v<T>) {
        if (!j.is_array()) fail(path, "expected array, got {}", kind(j));
        out.clear();
        for (size_t i = 0; i < j.size(); ++i)
            read_value(j[i], at_index(path, i), out.emplace_back());
    } else if constexpr (is_map_v<T>) {
        if (!j.is_object()) fail(path, "expected object, got {}", kind(j));
        out.clear();
        for (auto it = j.begin(); it != j.end(); ++it) {
            std::string at = at_key(path, it.key());
            check_no_nul(it.key(), at);
            read_value(it.value(), at, out[it.key()]);
        }
    } else {
        read_struct(Obj(j, path), out);
    }
}

template <class S, class M, class Rule>
void read_field(const Obj& o, const Field<S, M, Rule>& f, S& s) {
    const json* v = o.get(f.key);
    if (!v) {
        if ((f.flags & kRequired) == kRequired) fail(o.path(f.key), "required");
        return;
    }
    std::string path = o.path(f.key);
    read_value(*v, path, s.*f.member);
    f.rule(present(s.*f.member), path);
}

template <class S>
void read_struct(const Obj& o, S& s) {
    std::apply([&](const auto&... f) { (read_field(o, f, s), ...); }, fields(Type<S>{}));
    if constexpr (requires { validate(o, s); }) validate(o, s);
}

template <class S>
S read_struct(const Obj& o) {
    S s;
    read_struct(o, s);
    return s;
}

// Empty as Go's omitempty sees it; a struct never is.
template <class T>
bool is_empty(const T& v) {
    if constexpr (std::is_same_v<T, std::string> || is_vector_v<T> || is_map_v<T>)
        return v.empty();
    else if constexpr (std::is_same_v<T, bool>)
        return !v;
    else if constexpr (std::is_integral_v<T>)
        return v == 0;
    else if constexpr (is_optional_v<T>)
        return !v.has_value();
    else
        return false;
}

template <class T>
ojson write_value(const T& v) {
    if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, bool> ||
                  std::is_integral_v<T>) {
        return v;
    } else if constexpr (is_optional_v<T>) {
        return write_value(*v);
    } else if constexpr (is_vector_v<T>) {
        ojson a = ojson::array();
        for (const auto& e : v) a.push_back(write_value(e));
        return a;
    } else if constexpr (is_map_v<T>) {
        ojson o = ojson::object();
        for (const auto& [k, e] : v) o[k] = write_value(e);
        return o;
    } else {
        return write_struct(v);
    }
}

template <class S>
ojson write_struct(const S& s) {
    ojson o = ojson::object();
    std::apply(
        [&](const auto&... f) {
            auto put = [&](const auto& field) {
                const auto& v = s.*field.member;
                if constexpr (is_optional_v<std::remove_cvref_t<decltype(v)>>) {
                    if (!v) return;
                }
                if ((field.flags & kAlways) == 0 && is_empty(v)) return;
                o[std::string(field.key)] = write_value(v);
            };
            (put(f), ...);
        },
        fields(Type<S>{}));
    return o;
}

}  // namespace husk::oci::detail
