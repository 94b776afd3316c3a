#include "engine/config_file.h"

#include <fmt/format.h>

#include "engine/paths.h"
#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/user_dirs.h"

namespace husk::engine {

namespace {

std::string_view config_trimmed(std::string_view s) {
    size_t b = s.find_first_not_of(" \t\r");
    if (b == std::string_view::npos) return {};
    size_t e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

}  // namespace

EngineConfig parse_engine_config(std::string_view text, const std::string& path) {
    EngineConfig c;
    int number = 0;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        ++number;
        auto bad = [&](const std::string& why) {
            return Error(fmt::format("{}:{}: {}", path, number, why));
        };
        // a '#' starts a comment (no value of husk.conf holds one)
        line = config_trimmed(line.substr(0, line.find('#')));
        if (line.empty()) continue;
        if (line.front() == '[') {
            if (line != "[network]")
                throw bad(fmt::format("unknown section {} (husk.conf knows [network])", line));
            continue;
        }
        size_t eq = line.find('=');
        if (eq == std::string_view::npos)
            throw bad(fmt::format("expected key = value, got \"{}\"", line));
        std::string_view key = config_trimmed(line.substr(0, eq));
        std::string_view value = config_trimmed(line.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
            value = value.substr(1, value.size() - 2);
        if (key != "default_rootless_network_cmd")
            throw bad(
                fmt::format("unknown key \"{}\" (husk.conf knows "
                            "default_rootless_network_cmd)",
                            key));
        if (value == "pasta")
            c.default_rootless_network = NetworkMode::bridge;
        else if (value == "slirp4netns")
            c.default_rootless_network = NetworkMode::slirp4netns;
        else
            throw bad(fmt::format(
                "default_rootless_network_cmd: expected \"pasta\" or \"slirp4netns\", got \"{}\"",
                value));
    }
    return c;
}

EngineConfig load_engine_config() {
    std::string path = config_dir() + "/husk.conf";
    auto text = sys::read_file_if_exists(path);
    return text ? parse_engine_config(*text, path) : EngineConfig{};
}

NetworkMode default_network_mode() {
    if (!sys::rootless()) return NetworkMode::bridge;
    return load_engine_config().default_rootless_network.value_or(NetworkMode::bridge);
}

}  // namespace husk::engine
