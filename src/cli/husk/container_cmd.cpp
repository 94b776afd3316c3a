#include "cli/husk/container_cmd.h"

#include <unistd.h>

#include <climits>
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/template/template.h"
#include "network/statepath.h"
#include "sys/user_dirs.h"

namespace husk::cli {

engine::EngineContext engine_context(Context& ctx) {
    engine::EngineContext ec;
    ec.data_root = ctx.root;
    if (!ec.data_root.starts_with("/")) {
        char cwd[PATH_MAX];
        if (::getcwd(cwd, sizeof cwd)) ec.data_root = std::string(cwd) + "/" + ec.data_root;
    }
    // a user's networks keep their state with the data root's (one holder each)
    if (sys::rootless()) network::use_user_state_root(ec.state_root() + "/.net");
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
    std::string out = tmpl::format_object(format, value);
    out.pop_back();  // the newline format_object ends with
    return out;
}

}  // namespace husk::cli
