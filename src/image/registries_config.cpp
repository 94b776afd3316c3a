#include "image/registries_config.h"

#include <arpa/inet.h>
#include <fnmatch.h>

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/user_dirs.h"

namespace husk::image {

using json = nlohmann::json;

namespace {

// "127.0.0.1:5000", "127.1.2.3", "[::1]:5000", "localhost:5000": a registry on the
// loopback network (docker's 127.0.0.0/8 and ::1/128).
bool on_loopback(std::string_view registry) {
    std::string_view host = registry;
    if (host.starts_with('[')) {
        size_t end = host.find(']');
        if (end == std::string_view::npos) return false;
        host = host.substr(1, end - 1);
    } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
        host = host.substr(0, colon);
    }
    if (host == "localhost") return true;
    std::string h(host);
    in_addr a4{};
    if (::inet_pton(AF_INET, h.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
    in6_addr a6{};
    return ::inet_pton(AF_INET6, h.c_str(), &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

}  // namespace

bool RegistriesConfig::is_insecure(std::string_view registry) const {
    if (loopback_insecure && on_loopback(registry)) return true;
    std::string r(registry);
    for (auto& pat : insecure)
        if (::fnmatch(pat.c_str(), r.c_str(), 0) == 0) return true;
    return false;
}

std::string Mirror::repository(std::string_view repo) const {
    return prefix.empty() ? std::string(repo) : prefix + "/" + std::string(repo);
}

const std::vector<Mirror>& RegistriesConfig::mirrors_of(std::string_view registry) const {
    static const std::vector<Mirror> none;
    auto it = mirrors.find(std::string(registry));
    return it == mirrors.end() ? none : it->second;
}

namespace {

// "host[:port][/path]": no scheme (insecure decides), no empty path components.
Mirror parse_mirror(const std::string& s, const std::string& field) {
    auto bad = [&](std::string_view why) {
        return Error(fmt::format("{}: invalid mirror \"{}\": {}", field, s, why));
    };
    if (s.find("://") != std::string::npos)
        throw bad(
            "give host[:port][/path] without a scheme (list it under \"insecure\" for plain "
            "HTTP)");
    Mirror m;
    size_t slash = s.find('/');
    m.host = s.substr(0, slash);
    if (slash != std::string::npos) m.prefix = s.substr(slash + 1);
    while (!m.prefix.empty() && m.prefix.back() == '/') m.prefix.pop_back();
    auto host_ok = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
               c == '[' || c == ']';
    };
    if (m.host.empty() || !std::all_of(m.host.begin(), m.host.end(), host_ok))
        throw bad("expected host[:port][/path]");
    if (m.prefix.starts_with("/") || m.prefix.find("//") != std::string::npos ||
        m.prefix.find_first_of(" \t@") != std::string::npos)
        throw bad("malformed path");
    return m;
}

}  // namespace

RegistriesConfig RegistriesConfig::parse(std::string_view text) {
    RegistriesConfig c;
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        throw Error(e.what());
    }
    if (!j.is_object()) throw Error("expected a JSON object");
    for (auto& [key, v] : j.items()) {
        if (key == "insecure") {
            if (!v.is_array()) throw Error("insecure: expected an array of strings");
            for (size_t i = 0; i < v.size(); ++i) {
                if (!v[i].is_string())
                    throw Error(fmt::format("insecure[{}]: expected a string", i));
                c.insecure.push_back(v[i].get<std::string>());
            }
        } else if (key == "mirrors") {
            if (!v.is_object())
                throw Error("mirrors: expected an object {\"registry\": [\"mirror\", ...]}");
            for (auto& [reg, list] : v.items()) {
                std::string field = fmt::format("mirrors[\"{}\"]", reg);
                if (!list.is_array()) throw Error(field + ": expected an array of strings");
                auto& out = c.mirrors[reg];
                for (size_t i = 0; i < list.size(); ++i) {
                    std::string f = fmt::format("{}[{}]", field, i);
                    if (!list[i].is_string()) throw Error(f + ": expected a string");
                    out.push_back(parse_mirror(list[i].get<std::string>(), f));
                }
            }
        } else {
            throw Error(fmt::format("unknown key \"{}\" (expected insecure, mirrors)", key));
        }
    }
    return c;
}

RegistriesConfig RegistriesConfig::load(const std::vector<std::string>& paths) {
    for (auto& p : paths) {
        auto text = sys::read_file_if_exists(p);
        if (!text) continue;
        return with_context(fmt::format("registries config \"{}\"", p),
                            [&] { return parse(*text); });
    }
    return {};
}

std::vector<std::string> registries_config_paths(const std::string& root) {
    if (const char* env = ::getenv("HUSK_REGISTRIES_CONFIG"); env != nullptr && *env != '\0') {
        if (!sys::exists_nofollow(env))
            throw Error(fmt::format("HUSK_REGISTRIES_CONFIG: \"{}\" does not exist", env));
        return {env};
    }
    // A user's own configuration first (rootless), then the host's.
    if (sys::rootless()) {
        std::string own;
        try {
            own = sys::xdg_config_home() + "/husk/registries.json";
        } catch (const Error&) {  // no HOME: only the host's
        }
        if (!own.empty()) return {root + "/registries.json", own, "/etc/husk/registries.json"};
    }
    return {root + "/registries.json", "/etc/husk/registries.json"};
}

}  // namespace husk::image
