// husk-runtime's verbs, one registration function per group, sharing the global flags.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace husk::cli {

struct Globals {
    std::string root = "/run/husk-runtime";
    std::string log;
    std::string log_format = "text";
    bool debug = false;
    bool systemd_cgroup = false;
    std::string rootless = "auto";
    int exit_code = 0;  // set by a verb that returns a status (run)
};

void add_lifecycle_commands(CLI::App& app, Globals& g);  // create start run delete kill
void add_info_commands(CLI::App& app, Globals& g);       // state list ps features spec
void add_resource_commands(CLI::App& app, Globals& g);   // pause resume update events

}  // namespace husk::cli
