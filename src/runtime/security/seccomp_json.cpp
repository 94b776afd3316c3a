// linux.seccomp <-> JSON. The parser is local to the security module (the
// profile files we ship are plain linux.seccomp objects); errors name the
// JSON path of the offending field.
#include <limits>

#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "runtime/security/seccomp.h"
#include "sys/error.h"

namespace husk::runtime::security {
namespace {

using nlohmann::json;

[[noreturn]] void bad_type(const std::string& path, const char* want, const json& v) {
    throw Error(fmt::format("{}: expected {}, got {}", path, want, v.type_name()));
}

const json& object_at(const json& v, const std::string& path) {
    if (!v.is_object()) bad_type(path, "object", v);
    return v;
}

std::string get_string(const json& v, const std::string& path) {
    if (!v.is_string()) bad_type(path, "string", v);
    return v.get<std::string>();
}

uint64_t get_u64(const json& v, const std::string& path, uint64_t max) {
    if (!v.is_number_integer()) bad_type(path, "integer", v);
    if (v.is_number_unsigned()) {
        auto u = v.get<uint64_t>();
        if (u <= max) return u;
    } else if (auto i = v.get<int64_t>(); i >= 0 && static_cast<uint64_t>(i) <= max) {
        return static_cast<uint64_t>(i);
    }
    throw Error(fmt::format("{}: {} out of range 0..{}", path, v.dump(), max));
}

std::vector<std::string> get_strings(const json& v, const std::string& path) {
    if (!v.is_array()) bad_type(path, "array", v);
    std::vector<std::string> out;
    for (size_t i = 0; i < v.size(); ++i)
        out.push_back(get_string(v[i], fmt::format("{}[{}]", path, i)));
    return out;
}

oci::SeccompArg parse_arg(const json& j, const std::string& path) {
    object_at(j, path);
    oci::SeccompArg a;
    if (!j.contains("index")) throw Error(path + ".index: required");
    if (!j.contains("value")) throw Error(path + ".value: required");
    if (!j.contains("op")) throw Error(path + ".op: required");
    a.index = static_cast<uint32_t>(get_u64(j["index"], path + ".index", 0xffffffffu));
    a.value = get_u64(j["value"], path + ".value", std::numeric_limits<uint64_t>::max());
    if (j.contains("valueTwo"))
        a.value_two =
            get_u64(j["valueTwo"], path + ".valueTwo", std::numeric_limits<uint64_t>::max());
    a.op = get_string(j["op"], path + ".op");
    return a;
}

oci::SeccompSyscall parse_syscall(const json& j, const std::string& path) {
    object_at(j, path);
    oci::SeccompSyscall s;
    if (!j.contains("names")) throw Error(path + ".names: required");
    if (!j.contains("action")) throw Error(path + ".action: required");
    s.names = get_strings(j["names"], path + ".names");
    s.action = get_string(j["action"], path + ".action");
    if (j.contains("errnoRet"))
        s.errno_ret =
            static_cast<uint32_t>(get_u64(j["errnoRet"], path + ".errnoRet", 0xffffffffu));
    if (j.contains("args")) {
        const json& args = j["args"];
        if (!args.is_null()) {
            if (!args.is_array()) bad_type(path + ".args", "array", args);
            for (size_t i = 0; i < args.size(); ++i)
                s.args.push_back(parse_arg(args[i], fmt::format("{}.args[{}]", path, i)));
        }
    }
    return s;
}

}  // namespace

oci::Seccomp parse_seccomp_json(const std::string& json_text, const std::string& prefix) {
    json j;
    try {
        j = json::parse(json_text);
    } catch (const json::parse_error& e) {
        throw Error(fmt::format("{}: invalid JSON: {}", prefix, e.what()));
    }
    object_at(j, prefix);
    oci::Seccomp p;
    if (!j.contains("defaultAction")) throw Error(prefix + ".defaultAction: required");
    p.default_action = get_string(j["defaultAction"], prefix + ".defaultAction");
    if (j.contains("defaultErrnoRet"))
        p.default_errno_ret = static_cast<uint32_t>(
            get_u64(j["defaultErrnoRet"], prefix + ".defaultErrnoRet", 0xffffffffu));
    if (j.contains("architectures"))
        p.architectures = get_strings(j["architectures"], prefix + ".architectures");
    if (j.contains("flags")) p.flags = get_strings(j["flags"], prefix + ".flags");
    if (j.contains("listenerPath"))
        p.listener_path = get_string(j["listenerPath"], prefix + ".listenerPath");
    if (j.contains("listenerMetadata"))
        p.listener_metadata = get_string(j["listenerMetadata"], prefix + ".listenerMetadata");
    if (j.contains("syscalls")) {
        const json& calls = j["syscalls"];
        if (!calls.is_array()) bad_type(prefix + ".syscalls", "array", calls);
        for (size_t i = 0; i < calls.size(); ++i)
            p.syscalls.push_back(
                parse_syscall(calls[i], fmt::format("{}.syscalls[{}]", prefix, i)));
    }
    return p;
}

std::string dump_seccomp_json(const oci::Seccomp& p) {
    // nlohmann::json objects keep keys sorted: the output is canonical.
    json j = json::object();
    j["defaultAction"] = p.default_action;
    if (p.default_errno_ret) j["defaultErrnoRet"] = *p.default_errno_ret;
    if (!p.architectures.empty()) j["architectures"] = p.architectures;
    if (!p.flags.empty()) j["flags"] = p.flags;
    if (!p.listener_path.empty()) j["listenerPath"] = p.listener_path;
    if (!p.listener_metadata.empty()) j["listenerMetadata"] = p.listener_metadata;
    json calls = json::array();
    for (const auto& s : p.syscalls) {
        json c = {{"names", s.names}, {"action", s.action}};
        if (s.errno_ret) c["errnoRet"] = *s.errno_ret;
        if (!s.args.empty()) {
            json args = json::array();
            for (const auto& a : s.args)
                args.push_back({{"index", a.index},
                                {"value", a.value},
                                {"valueTwo", a.value_two},
                                {"op", a.op}});
            c["args"] = std::move(args);
        }
        calls.push_back(std::move(c));
    }
    if (!calls.empty()) j["syscalls"] = std::move(calls);
    return j.dump();
}

}  // namespace husk::runtime::security
