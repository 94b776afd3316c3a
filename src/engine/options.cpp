#include "engine/options.h"

#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "engine/volumes.h"
#include "network/slirp.h"
#include "runtime/security/lsm.h"
#include "runtime/signals.h"
#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/text.h"

namespace husk::engine {

namespace {

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    size_t start = 0;
    for (;;) {
        size_t p = s.find(sep, start);
        out.emplace_back(s.substr(start, p - start));
        if (p == std::string_view::npos) return out;
        start = p + 1;
    }
}

bool parse_u64(std::string_view s, uint64_t& out) {
    if (s.empty()) return false;
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        if (v > (UINT64_MAX - 9) / 10) return false;
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    out = v;
    return true;
}

}  // namespace

std::string_view to_string(NetworkMode m) {
    switch (m) {
        case NetworkMode::bridge:
            return "bridge";
        case NetworkMode::none:
            return "none";
        case NetworkMode::host:
            return "host";
        case NetworkMode::user:
            return "user";
        case NetworkMode::slirp4netns:
            return "slirp4netns";
    }
    return "bridge";
}

NetworkMode parse_network_mode(std::string_view s) {
    for (auto m : {NetworkMode::bridge, NetworkMode::none, NetworkMode::host, NetworkMode::user,
                   NetworkMode::slirp4netns})
        if (to_string(m) == s) return m;
    throw Error(
        error_format("network mode \"{}\" is not supported (bridge, none, host, slirp4netns)", s));
}

NetworkMode parse_networks(const std::vector<std::string>& values,
                           const std::vector<std::string>& aliases, const std::string& ip,
                           std::vector<NetworkAttachment>& out) {
    std::optional<NetworkMode> predefined;
    for (auto& v : values) {
        std::string_view mode = std::string_view(v).substr(0, v.find(':'));
        if (v == "bridge" || v == "none" || v == "host" || mode == "slirp4netns") {
            if (predefined && to_string(*predefined) != mode)
                throw Error(error_format("conflicting options: network modes {} and {}",
                                         to_string(*predefined), mode));
            predefined = parse_network_mode(mode);
            continue;
        }
        if (v.empty()) throw Error("invalid argument \"\" for \"--network\" flag");
        bool twice = std::any_of(out.begin(), out.end(), [&](auto& a) { return a.network == v; });
        if (!twice) out.push_back({v, {}, ""});
    }
    if (predefined && !out.empty())
        throw Error(
            "conflicting options: cannot attach both user-defined and non-user-defined "
            "network-modes");
    if (out.empty()) {
        if (!ip.empty())
            throw Error("user specified IP address is supported on user defined networks only");
        if (!aliases.empty())
            throw Error(
                "network-scoped alias is supported only for containers in user defined networks");
        return predefined.value_or(NetworkMode::bridge);
    }
    out.front().aliases = aliases;
    out.front().ip = ip;
    return NetworkMode::user;
}

std::string slirp_options_of(const std::vector<std::string>& values) {
    std::string options;
    for (auto& v : values)
        if (v.starts_with("slirp4netns:")) {
            std::string these = v.substr(std::strlen("slirp4netns:"));
            network::parse_slirp_options(these);
            options += (options.empty() || these.empty() ? "" : ",") + these;
        }
    return options;
}

std::string_view to_string(UsernsMode m) {
    switch (m) {
        case UsernsMode::unset:
            return "";
        case UsernsMode::host:
            return "host";
        case UsernsMode::automatic:
            return "auto";
        case UsernsMode::keep_id:
            return "keep-id";
    }
    return "";
}

UsernsMode parse_userns_mode(std::string_view s) {
    for (auto m : {UsernsMode::unset, UsernsMode::host, UsernsMode::automatic, UsernsMode::keep_id})
        if (to_string(m) == s) return m;
    throw Error(error_format("--userns={} is not supported (host, auto)", s));
}

std::optional<int64_t> parse_go_duration(std::string_view s) {
    bool neg = !s.empty() && s[0] == '-';
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
    if (s == "0") return 0;
    if (s.empty()) return std::nullopt;
    static const std::pair<std::string_view, double> units[] = {
        {"ns", 1},  {"us", 1e3}, {"\u00b5s", 1e3}, {"ms", 1e6},
        {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
    double total = 0;
    while (!s.empty()) {
        size_t i = 0;
        while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
        if (i == 0) return std::nullopt;
        char* end = nullptr;
        std::string num(s.substr(0, i));
        double v = std::strtod(num.c_str(), &end);
        if (end != num.c_str() + num.size()) return std::nullopt;
        s.remove_prefix(i);
        size_t j = 0;
        while (j < s.size() && !std::isdigit(static_cast<unsigned char>(s[j])) && s[j] != '.') ++j;
        std::string_view unit = s.substr(0, j);
        s.remove_prefix(j);
        bool found = false;
        for (const auto& [name, scale] : units)
            if (unit == name) {
                total += v * scale;
                found = true;
            }
        if (!found) return std::nullopt;
    }
    if (total > 9.2e18) return std::nullopt;
    return static_cast<int64_t>(total) * (neg ? -1 : 1);
}

void bad_flag(std::string_view flag, std::string_view value, std::string_view why) {
    throw Error(
        fmt::format("invalid argument \"{}\" for \"{}\" flag: {}", shown(value), flag, why));
}

int64_t parse_size(std::string_view text) {
    auto fail = [&]() -> int64_t { throw Error(error_format("invalid size: '{}'", text)); };
    std::string s = sys::ascii_lower(text);
    size_t i = 0;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == 0 || s[0] == '.') return fail();
    std::string num = s.substr(0, i);
    std::string unit = s.substr(i);
    if (!unit.empty() && unit[0] == ' ') unit.erase(0, 1);
    if (unit.ends_with("ib"))
        unit.resize(unit.size() - 2);
    else if (unit.size() == 2 && unit[1] == 'b')
        unit.resize(1);
    else if (unit == "b")
        unit.clear();
    double mult = 1;
    if (unit.size() > 1) return fail();
    if (!unit.empty()) {
        static const std::string units = "kmgtp";
        size_t u = units.find(unit[0]);
        if (u == std::string::npos) return fail();
        for (size_t k = 0; k <= u; ++k) mult *= 1024;
    }
    char* end = nullptr;
    double v = std::strtod(num.c_str(), &end);
    if (end == nullptr || *end != '\0') return fail();
    double bytes = v * mult;
    if (bytes > 9.2e18) return fail();
    return static_cast<int64_t>(bytes);
}

std::optional<int64_t> parse_size_flag(std::string_view flag, const std::string& value) {
    if (value.empty()) return std::nullopt;
    try {
        return parse_size(value);
    } catch (const Error& e) {
        bad_flag(flag, value, e.what());
    }
}

void parse_memory_flags(RunOptions& o, const std::string& memory, const std::string& swap,
                        const std::string& reservation) {
    o.memory = parse_size_flag("-m, --memory", memory);
    // docker's sizes: only --memory-swap takes -1 (unlimited swap)
    o.memory_swap = swap == "-1" ? -1 : parse_size_flag("--memory-swap", swap);
    o.memory_reservation = parse_size_flag("--memory-reservation", reservation);
}

std::optional<oci::MemoryResources> memory_resources(
    const RunOptions& o, const std::function<bool()>& swap_limit_supported) {
    if (!o.memory && !o.memory_swap && !o.memory_reservation) return std::nullopt;
    oci::MemoryResources m;
    if (o.memory) {
        if (*o.memory < 6L * 1024 * 1024) throw Error("minimum memory limit allowed is 6MB");
        m.limit = *o.memory;
    }
    if (o.memory_swap) {
        if (!o.memory && *o.memory_swap != -1)
            throw Error(
                "you should always set the memory limit when using the memoryswap "
                "limit, see usage");
        if (o.memory && *o.memory_swap != -1 && *o.memory_swap < *o.memory)
            throw Error(
                "minimum memoryswap limit should be larger than memory limit, see "
                "usage");
        m.swap = *o.memory_swap;
    } else if (o.memory && swap_limit_supported()) {
        m.swap = 2 * *o.memory;  // docker's default: as much swap as memory
    }
    if (o.memory_reservation) m.reservation = *o.memory_reservation;
    return m;
}

double parse_cpus(std::string_view s, int host_cpus) {
    std::string str(s);
    char* end = nullptr;
    errno = 0;
    double v = std::strtod(str.c_str(), &end);
    if (str.empty() || end == nullptr || *end != '\0' || errno != 0)
        bad_flag("--cpus", s, error_format("failed to parse {} as a rational number", str));
    if (v < 0.01 || v > host_cpus)
        throw Error(
            fmt::format("range of CPUs is from 0.01 to {}.00, as there are only {} CPUs "
                        "available",
                        host_cpus, host_cpus));
    return v;
}

oci::Rlimit parse_ulimit(std::string_view s) {
    auto [name, value] = parse_key_value(s);
    if (value.empty()) bad_flag("--ulimit", s, error_format("invalid ulimit argument: {}", s));
    static const std::map<std::string, std::string> names = {
        {"core", "RLIMIT_CORE"},         {"cpu", "RLIMIT_CPU"},
        {"data", "RLIMIT_DATA"},         {"fsize", "RLIMIT_FSIZE"},
        {"locks", "RLIMIT_LOCKS"},       {"memlock", "RLIMIT_MEMLOCK"},
        {"msgqueue", "RLIMIT_MSGQUEUE"}, {"nice", "RLIMIT_NICE"},
        {"nofile", "RLIMIT_NOFILE"},     {"nproc", "RLIMIT_NPROC"},
        {"rss", "RLIMIT_RSS"},           {"rtprio", "RLIMIT_RTPRIO"},
        {"rttime", "RLIMIT_RTTIME"},     {"sigpending", "RLIMIT_SIGPENDING"},
        {"stack", "RLIMIT_STACK"},       {"as", "RLIMIT_AS"},
    };
    auto it = names.find(name);
    if (it == names.end()) bad_flag("--ulimit", s, error_format("invalid ulimit type: {}", name));
    auto parts = split(value, ':');
    uint64_t soft = 0, hard = 0;
    auto num = [&](const std::string& v, uint64_t& out) {
        if (v == "-1" || v == "unlimited") {
            out = RLIM_INFINITY;
            return true;
        }
        return parse_u64(v, out);
    };
    if (parts.size() > 2 || !num(parts[0], soft) || !num(parts.back(), hard))
        bad_flag("--ulimit", s, error_format("invalid ulimit argument: {}", s));
    if (soft > hard)
        bad_flag("--ulimit", s,
                 fmt::format("ulimit soft limit must be less than or equal to hard limit: {} > {}",
                             soft, hard));
    return oci::Rlimit{it->second, hard, soft};
}

oci::IdMapping parse_idmap(std::string_view flag, std::string_view s) {
    auto parts = split(s, ':');
    uint64_t v[3] = {};
    if (parts.size() != 3 || !parse_u64(parts[0], v[0]) || !parse_u64(parts[1], v[1]) ||
        !parse_u64(parts[2], v[2]))
        bad_flag(flag, s, "expected CONTAINER-ID:HOST-ID:AMOUNT");
    if (v[2] == 0) bad_flag(flag, s, "the amount of ids must be at least 1");
    for (int i : {0, 1})
        if (v[i] + v[2] > UINT32_MAX) bad_flag(flag, s, "ids must stay below 4294967295");
    return oci::IdMapping{static_cast<uint32_t>(v[0]), static_cast<uint32_t>(v[1]),
                          static_cast<uint32_t>(v[2])};
}

void check_idmaps(std::string_view flag, const std::vector<oci::IdMapping>& maps) {
    if (maps.empty()) return;
    if (std::none_of(maps.begin(), maps.end(), [](auto& m) { return m.container_id == 0; }))
        throw Error(fmt::format("{}: container id 0 (root) must be mapped", flag));
    auto overlap = [](uint64_t a, uint64_t n, uint64_t b, uint64_t l) {
        return a < b + l && b < a + n;
    };
    for (size_t i = 0; i < maps.size(); ++i)
        for (size_t k = i + 1; k < maps.size(); ++k) {
            const auto &x = maps[i], &y = maps[k];
            if (overlap(x.container_id, x.size, y.container_id, y.size) ||
                overlap(x.host_id, x.size, y.host_id, y.size))
                throw Error(fmt::format("{} {}:{}:{} overlaps {}:{}:{}", flag, y.container_id,
                                        y.host_id, y.size, x.container_id, x.host_id, x.size));
        }
}

void check_volume_name(const std::string& name) {
    if (!valid_volume_name(name))
        throw Error(error_format(
            "create {}: \"{}\" includes invalid characters for a local volume name, only "
            "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host "
            "directory, use absolute path",
            name, name));
}

MountSpec parse_volume(std::string_view s) {
    auto parts = split(s, ':');
    if (parts.size() == 1 && !parts[0].empty() && parts[0][0] == '/')
        return MountSpec{"volume", "", parts[0], false, {}};  // an anonymous volume
    if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty())
        bad_flag("-v, --volume", s, "expected HOST-DIR|VOLUME:CONTAINER-DIR[:OPTIONS]");
    if (parts[1][0] != '/')
        throw Error(
            error_format("invalid volume specification: '{}': the container path must be "
                         "absolute",
                         s));
    MountSpec m{parts[0][0] == '/' ? "bind" : "volume", parts[0], parts[1], false, {}};
    if (m.type == "volume") check_volume_name(m.source);
    if (parts.size() == 3) {
        for (auto& o : split(parts[2], ',')) {
            if (o == "ro")
                m.readonly = true;
            else if (o == "rw")
                m.readonly = false;
            else if (o == "z" || o == "Z")
                continue;  // SELinux relabelling: no LSM here
            else if (o == "shared" || o == "rshared" || o == "slave" || o == "rslave" ||
                     o == "private" || o == "rprivate")
                m.options.push_back(o);
            else
                throw Error(
                    error_format("invalid volume specification: '{}': invalid mode: {}", s, o));
        }
    }
    return m;
}

MountSpec parse_mount(std::string_view s) {
    MountSpec m;
    m.type = "volume";
    for (auto& field : split(s, ',')) {
        auto eq = field.find('=');
        std::string k = sys::ascii_lower(field.substr(0, eq));
        std::string v = eq == std::string::npos ? "" : field.substr(eq + 1);
        if (k == "type")
            m.type = v;
        else if (k == "source" || k == "src")
            m.source = v;
        else if (k == "target" || k == "destination" || k == "dst")
            m.target = v;
        else if (k == "readonly" || k == "ro")
            m.readonly = v.empty() || v == "true" || v == "1";
        else if (k == "tmpfs-size")
            m.options.push_back(fmt::format("size={}", parse_size(v)));
        else if (k == "tmpfs-mode")
            m.options.push_back("mode=" + v);
        else if (k == "bind-propagation")
            m.options.push_back(v);
        else
            bad_flag("--mount", s, error_format("unexpected key '{}' in '{}'", k, field));
    }
    if (m.type != "bind" && m.type != "tmpfs" && m.type != "volume")
        throw Error(error_format(
            "--mount {}: mount type \"{}\" is not supported (bind, volume, tmpfs)", s, m.type));
    if (m.target.empty() || m.target[0] != '/')
        throw Error(error_format("--mount {}: target must be an absolute path", s));
    if (m.type == "bind" && (m.source.empty() || m.source[0] != '/'))
        throw Error(error_format("--mount {}: bind source must be an absolute path", s));
    m.must_exist = m.type == "bind";
    if (m.type == "volume" && !m.source.empty()) check_volume_name(m.source);
    return m;
}

MountSpec parse_tmpfs(std::string_view s) {
    auto colon = s.find(':');
    MountSpec m{"tmpfs", "tmpfs", std::string(s.substr(0, colon)), false, {}};
    if (m.target.empty() || m.target[0] != '/')
        bad_flag("--tmpfs", s, "the container path must be absolute");
    if (colon != std::string_view::npos)
        for (auto& o : split(s.substr(colon + 1), ',')) m.options.push_back(o);
    return m;
}

DeviceSpec parse_device(std::string_view s) {
    auto parts = split(s, ':');
    DeviceSpec d;
    d.host_path = parts[0];
    d.container_path = parts[0];
    auto is_perm = [](const std::string& p) {
        return !p.empty() && p.find_first_not_of("rwm") == std::string::npos;
    };
    if (parts.size() == 2) {
        if (is_perm(parts[1]))
            d.permissions = parts[1];
        else
            d.container_path = parts[1];
    } else if (parts.size() == 3) {
        d.container_path = parts[1];
        d.permissions = parts[2];
    }
    if (parts.size() > 3 || d.host_path.empty() || d.host_path[0] != '/' ||
        d.container_path.empty() || d.container_path[0] != '/' || !is_perm(d.permissions))
        bad_flag("--device", s, "invalid device specification");
    return d;
}

std::pair<std::string, std::string> parse_key_value(std::string_view s) {
    auto eq = s.find('=');
    if (eq == 0 || s.empty())
        throw Error(error_format("invalid argument \"{}\": expected KEY=VALUE", s));
    if (eq == std::string_view::npos) return {std::string(s), ""};
    return {std::string(s.substr(0, eq)), std::string(s.substr(eq + 1))};
}

std::vector<std::string> parse_env_file(const std::string& path) {
    // read_file, not a stream: a directory opens as a stream and reads as empty.
    std::string text = with_context("--env-file", [&] { return sys::read_file(path); });
    std::vector<std::string> out;
    size_t number = 0;
    for (auto& line : split(text, '\n')) {
        ++number;
        if (line.find('\0') != std::string::npos)
            throw Error(error_format("--env-file {}: line {} contains a NUL byte", path, number));
        size_t b = line.find_first_not_of(" \t");
        if (b == std::string::npos || line[b] == '#') continue;
        line.erase(0, b);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find('=') == std::string::npos) {
            std::string k = line;
            while (!k.empty() && std::isspace(static_cast<unsigned char>(k.back()))) k.pop_back();
            if (const char* v = std::getenv(k.c_str())) out.push_back(k + "=" + v);
            continue;
        }
        out.push_back(line);
    }
    return out;
}

int parse_stop_signal(const std::string& s) {
    try {
        return runtime::parse_signal(s);
    } catch (const Error&) {
        throw Error(error_format("invalid signal: {}", s));
    }
}

void apply_security_opt(const std::string& s, RunOptions& o) {
    auto invalid = [&](int n) {
        return Error(error_format("invalid --security-opt {}: \"{}\"", n, s));
    };
    if (s == "no-new-privileges") {
        o.no_new_privileges = true;
        return;
    }
    if (s == "disable") return;  // docker's short form of label=disable
    // docker still takes the deprecated "key:value"
    size_t sep = s.find('=');
    if (sep == std::string::npos) sep = s.find(':');
    if (sep == std::string::npos) throw invalid(1);
    std::string key = s.substr(0, sep), value = s.substr(sep + 1);
    if (key == "no-new-privileges") {
        if (value == "true" || value == "1")
            o.no_new_privileges = true;
        else if (value == "false" || value == "0")
            o.no_new_privileges = false;
        else
            throw invalid(2);
    } else if (key == "seccomp") {
        if (value.empty()) throw invalid(2);
        o.seccomp = value;
    } else if (key == "apparmor") {
        if (value != "unconfined")
            runtime::security::refuse_lsm("--security-opt apparmor", value,
                                          runtime::security::Lsm::apparmor);
    } else if (key == "label") {
        if (value != "disable")
            runtime::security::refuse_lsm("--security-opt label", value,
                                          runtime::security::Lsm::selinux);
    } else {
        throw invalid(2);
    }
}

void check_bind_sources(const std::vector<MountSpec>& mounts) {
    for (const auto& m : mounts)
        if (m.type == "bind" && m.must_exist && !sys::exists_follow(m.source))
            throw Error(error_format(
                "invalid mount config for type \"bind\": bind source path does not exist: {}",
                m.source));
}

}  // namespace husk::engine
