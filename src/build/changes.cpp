#include "build/changes.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "image/unpack.h"
#include "sys/error.h"

namespace husk::build {
namespace {

using json = nlohmann::json;

std::string_view ltrim_view(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    return s;
}

json& config_of(json& image_config) {
    json& c = image_config["config"];
    if (!c.is_object()) c = json::object();
    return c;
}

std::string clean_abs(std::string_view p) {
    return "/" + image::clean_entry_path(p);
}

void set_env(json& config, const std::string& key, const std::string& value) {
    json& env = config["Env"];
    if (!env.is_array()) env = json::array();
    std::string entry = fmt::format("{}={}", key, value);
    for (auto& e : env) {
        std::string s = e.get<std::string>();
        if (s.substr(0, s.find('=')) == key) {
            e = entry;
            return;
        }
    }
    env.push_back(entry);
}

// CMD, ENTRYPOINT, HEALTHCHECK CMD: exec form as written, shell form through the shell.
json command(const Instruction& ins, std::string_view args, const json& image_config) {
    if (ins.exec_form) return ins.argv;
    auto argv = shell_of(image_config);
    argv.emplace_back(args);
    return argv;
}

std::string port_key(const std::string& p) {
    size_t slash = p.find('/');
    std::string num = p.substr(0, slash);
    std::string proto = slash == std::string::npos ? "tcp" : p.substr(slash + 1);
    for (auto& c : proto) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool ok = !num.empty() && std::all_of(num.begin(), num.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) || c == '-';
    });
    if (!ok || (proto != "tcp" && proto != "udp" && proto != "sctp"))
        throw Error(fmt::format("invalid port \"{}\"", p));
    return fmt::format("{}/{}", num, proto);
}

void healthcheck(const Instruction& ins, json& image_config, const Lookup& lookup, char escape) {
    json& config = config_of(image_config);
    std::string_view rest = ins.args;
    std::string upper_rest;
    for (char c : rest.substr(0, 4))
        upper_rest += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper_rest == "NONE" && rest.size() == 4) {
        config["Healthcheck"] = {{"Test", {"NONE"}}};
        return;
    }
    if (upper_rest.substr(0, 3) != "CMD") throw Error("HEALTHCHECK: expected NONE or CMD COMMAND");
    json hc = json::object();
    for (const char* name : {"interval", "timeout", "start-period", "start-interval"}) {
        if (auto v = ins.flag(name)) {
            std::string key = name == std::string_view("interval")       ? "Interval"
                              : name == std::string_view("timeout")      ? "Timeout"
                              : name == std::string_view("start-period") ? "StartPeriod"
                                                                         : "StartInterval";
            hc[key] = parse_duration_ns(expand_word(*v, lookup, escape));
        }
    }
    if (auto v = ins.flag("retries")) {
        int n = 0;
        auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
        if (ec != std::errc() || p != v->data() + v->size() || n < 0)
            throw Error(fmt::format("HEALTHCHECK --retries={}: not a count", *v));
        hc["Retries"] = n;
    }
    std::string cmd(ltrim_view(rest.substr(3)));
    if (cmd.starts_with('[')) {
        auto j = json::parse(cmd, nullptr, false);
        if (!j.is_array() || j.empty()) throw Error("HEALTHCHECK CMD: bad JSON array");
        json test = json::array({"CMD"});
        for (auto& e : j) test.push_back(e);
        hc["Test"] = test;
    } else {
        hc["Test"] = {"CMD-SHELL", cmd};
    }
    config["Healthcheck"] = hc;
}

}  // namespace

bool is_config_instruction(std::string_view k) {
    return k == "ENV" || k == "LABEL" || k == "EXPOSE" || k == "VOLUME" || k == "CMD" ||
           k == "ENTRYPOINT" || k == "USER" || k == "WORKDIR" || k == "STOPSIGNAL" ||
           k == "SHELL" || k == "HEALTHCHECK" || k == "ONBUILD" || k == "MAINTAINER";
}

std::vector<std::string> shell_of(const json& image_config) {
    if (image_config.contains("config") && image_config["config"].is_object()) {
        const json& c = image_config["config"];
        if (c.contains("Shell") && c["Shell"].is_array() && !c["Shell"].empty())
            return c["Shell"].get<std::vector<std::string>>();
    }
    return {"/bin/sh", "-c"};
}

std::optional<std::string> env_value(const json& image_config, std::string_view name) {
    if (!image_config.contains("config") || !image_config["config"].is_object())
        return std::nullopt;
    const json& c = image_config["config"];
    if (!c.contains("Env") || !c["Env"].is_array()) return std::nullopt;
    for (auto& e : c["Env"]) {
        std::string s = e.get<std::string>();
        size_t eq = s.find('=');
        if (s.substr(0, eq) == name) return eq == std::string::npos ? "" : s.substr(eq + 1);
    }
    return std::nullopt;
}

void apply_config_instruction(const Instruction& ins, json& image_config, const Lookup& lookup,
                              char escape, StageConfigState& state) {
    json& config = config_of(image_config);
    const std::string& k = ins.keyword;
    if (k == "ENV") {
        for (auto& [key, value] : key_values(ins.args, lookup, escape, true))
            set_env(config, key, value);
    } else if (k == "LABEL") {
        json& labels = config["Labels"];
        if (!labels.is_object()) labels = json::object();
        for (auto& [key, value] : key_values(ins.args, lookup, escape, true)) labels[key] = value;
    } else if (k == "EXPOSE") {
        json& ports = config["ExposedPorts"];
        if (!ports.is_object()) ports = json::object();
        for (auto& p : shell_words(ins.args, lookup, escape)) ports[port_key(p)] = json::object();
    } else if (k == "VOLUME") {
        json& vols = config["Volumes"];
        if (!vols.is_object()) vols = json::object();
        auto list = ins.exec_form ? ins.argv : shell_words(ins.args, lookup, escape);
        for (auto& v : list) {
            if (v.empty()) throw Error("VOLUME specified can not be an empty string");
            vols[v] = json::object();
        }
    } else if (k == "CMD") {
        config["Cmd"] = command(ins, ins.args, image_config);
        state.cmd_set = true;
    } else if (k == "ENTRYPOINT") {
        config["Entrypoint"] = command(ins, ins.args, image_config);
        if (!state.cmd_set) config.erase("Cmd");
    } else if (k == "USER") {
        std::string u = expand_word(ins.args, lookup, escape);
        if (u.empty()) throw Error("USER requires a user name or id");
        config["User"] = u;
    } else if (k == "WORKDIR") {
        std::string w = expand_word(ins.args, lookup, escape);
        std::string base = config.contains("WorkingDir") && config["WorkingDir"].is_string()
                               ? config["WorkingDir"].get<std::string>()
                               : "/";
        config["WorkingDir"] = clean_abs(w.starts_with('/') ? w : base + "/" + w);
    } else if (k == "STOPSIGNAL") {
        config["StopSignal"] = expand_word(ins.args, lookup, escape);
    } else if (k == "SHELL") {
        if (!ins.exec_form || ins.argv.empty())
            throw Error("SHELL requires the arguments to be in JSON form");
        config["Shell"] = ins.argv;
    } else if (k == "HEALTHCHECK") {
        healthcheck(ins, image_config, lookup, escape);
    } else if (k == "ONBUILD") {
        std::string_view a = ltrim_view(ins.args);
        std::string first;
        for (char c : a) {
            if (std::isspace(static_cast<unsigned char>(c))) break;
            first += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        if (first == "ONBUILD" || first == "FROM" || first == "MAINTAINER")
            throw Error(fmt::format("{} isn't allowed as an ONBUILD trigger", first));
        // a trigger with heredocs keeps their bodies and delimiters: the text parses again as
        // the instruction it was when an image built FROM this one runs it
        std::string trigger(a);
        for (const auto& h : ins.heredocs) trigger += fmt::format("\n{}{}", h.content, h.name);
        json& ob = config["OnBuild"];
        if (!ob.is_array()) ob = json::array();
        ob.push_back(std::move(trigger));
    } else if (k == "MAINTAINER") {
        image_config["author"] = expand_word(ins.args, lookup, escape);
    } else {
        throw Error(fmt::format("{} does not change the image config", k));
    }
}

std::function<void(json&)> commit_changes(const std::vector<std::string>& changes) {
    std::vector<Instruction> list;
    for (auto& c : changes) {
        // docker's refusal, before the parser can call it an unknown instruction
        std::string_view text = ltrim_view(c);
        std::string_view word = text.substr(0, text.find_first_of(" \t\n"));
        std::string keyword;
        for (char ch : word)
            keyword += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        if (!is_config_instruction(keyword) || keyword == "MAINTAINER")
            throw Error(
                fmt::format("--change \"{}\": {} is not a valid change command (CMD, "
                            "ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, "
                            "SHELL, STOPSIGNAL, USER, VOLUME, WORKDIR)",
                            c, word));
        Dockerfile df = with_context(fmt::format("--change \"{}\"", c),
                                     [&] { return parse_dockerfile(c, "change"); });
        if (df.instructions.size() != 1)
            throw Error(fmt::format("--change \"{}\": one instruction per change", c));
        list.push_back(std::move(df.instructions.front()));
    }
    return [list](json& image_config) {
        StageConfigState state;
        for (auto& ins : list) {
            Lookup lookup = [&](std::string_view n) { return env_value(image_config, n); };
            with_context(fmt::format("--change \"{}\"", ins.original),
                         [&] { apply_config_instruction(ins, image_config, lookup, '\\', state); });
        }
    };
}

int64_t parse_duration_ns(std::string_view s) {
    if (s.empty()) throw Error("empty duration");
    int64_t total = 0;
    std::string_view rest = s;
    while (!rest.empty()) {
        size_t n = 0;
        while (n < rest.size() &&
               (std::isdigit(static_cast<unsigned char>(rest[n])) || rest[n] == '.'))
            ++n;
        if (n == 0) throw Error(fmt::format("invalid duration \"{}\"", s));
        double v = std::stod(std::string(rest.substr(0, n)));
        rest.remove_prefix(n);
        size_t u = 0;
        while (u < rest.size() && std::isalpha(static_cast<unsigned char>(rest[u]))) ++u;
        std::string_view unit = rest.substr(0, u);
        rest.remove_prefix(u);
        double mult = unit == "ns"   ? 1
                      : unit == "us" ? 1e3
                      : unit == "ms" ? 1e6
                      : unit == "s"  ? 1e9
                      : unit == "m"  ? 60e9
                      : unit == "h"  ? 3600e9
                                     : -1;
        if (mult < 0) throw Error(fmt::format("invalid duration \"{}\": unit \"{}\"", s, unit));
        total += static_cast<int64_t>(v * mult);
    }
    return total;
}

}  // namespace husk::build
