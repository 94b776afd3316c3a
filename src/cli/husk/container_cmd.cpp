#include "cli/husk/container_cmd.h"

#include <unistd.h>

#include <climits>
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace husk::cli {

engine::EngineContext engine_context(Context& ctx) {
    engine::EngineContext ec;
    ec.data_root = ctx.root;
    if (!ec.data_root.starts_with("/")) {
        char cwd[PATH_MAX];
        if (::getcwd(cwd, sizeof cwd)) ec.data_root = std::string(cwd) + "/" + ec.data_root;
    }
    return ec;
}

int for_each_container(const std::vector<std::string>& names,
                       const std::function<void(const std::string&)>& each) {
    int rc = 0;
    for (auto& n : names) {
        try {
            each(n);
        } catch (const std::exception& e) {
            std::fflush(stdout);
            fmt::print(stderr, "husk: error: {}\n", e.what());
            rc = 1;
        }
    }
    return rc;
}

std::string render_format(const std::string& format, const nlohmann::json& value) {
    if (format == "json" || format == "{{json .}}") return value.dump();
    std::string out;
    size_t pos = 0;
    while (pos < format.size()) {
        size_t open = format.find("{{", pos);
        if (open == std::string::npos) {
            out += format.substr(pos);
            break;
        }
        out += format.substr(pos, open - pos);
        size_t close = format.find("}}", open);
        if (close == std::string::npos) throw Error(fmt::format("bad --format: \"{}\"", format));
        std::string expr = format.substr(open + 2, close - open - 2);
        while (!expr.empty() && expr.front() == ' ') expr.erase(0, 1);
        while (!expr.empty() && expr.back() == ' ') expr.pop_back();
        bool as_json = expr.starts_with("json ");
        if (as_json) expr = expr.substr(5);
        if (!expr.starts_with(".")) throw Error(fmt::format("bad --format: \"{}\"", format));
        const nlohmann::json* v = &value;
        size_t p = 1;
        while (p < expr.size()) {
            size_t dot = expr.find('.', p);
            std::string key = expr.substr(p, dot == std::string::npos ? dot : dot - p);
            p = dot == std::string::npos ? expr.size() : dot + 1;
            if (key.empty()) continue;
            if (!v->is_object() || !v->contains(key))
                throw Error(fmt::format("template: can't evaluate field {}", key));
            v = &(*v)[key];
        }
        out += v->is_string() && !as_json ? v->get<std::string>() : v->dump();
        pos = close + 2;
    }
    // docker's templates turn "\t" and "\n" typed on the command line into the characters
    std::string unescaped;
    for (size_t i = 0; i < out.size(); ++i) {
        if (out[i] == '\\' && i + 1 < out.size() && (out[i + 1] == 't' || out[i + 1] == 'n')) {
            unescaped += out[i + 1] == 't' ? '\t' : '\n';
            ++i;
        } else {
            unescaped += out[i];
        }
    }
    return unescaped;
}

}  // namespace husk::cli
