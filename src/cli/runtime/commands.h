// husk-runtime's verbs, one registration function per group, sharing the global flags.
#pragma once

#include <functional>
#include <string>
#include <string_view>

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
    std::string rootless = "auto";  // --rootless: true, false or auto (runc's values)
    int exit_code = 0;              // set by a verb that returns a status (run)
    // The verb named on the command line, when it is one of ours: only its subcommand is
    // built (each costs allocations and option objects). Empty: build all (help, errors).
    std::string_view verb;

    // --rootless resolved: auto is true when we are not root on the host or run in a user
    // namespace that is not the host's (runc's rule).
    bool is_rootless() const;

    bool wants(std::string_view name, std::string_view alias = {}) const {
        return verb.empty() || verb == name || (!alias.empty() && verb == alias);
    }
};

// The first operand of argv after the global flags, if it is one of husk-runtime's verbs
// or their aliases; else empty.
std::string_view verb_of(int argc, char** argv);

// Once the global options are parsed (by CLI11 or by hand): `configure_log` run, a user's
// default --root (unless `root_given`), --systemd-cgroup refused.
void complete_globals(Globals& g, bool root_given, const std::function<void()>& configure_log);

// create, start, run, delete, kill parsed by hand and run when argv spells them plainly
// (fast_path.cpp); false: nothing was done, CLI11 parses the command line.
bool try_fast_path(int argc, char** argv, Globals& g, const std::function<void()>& configure_log);

void add_lifecycle_commands(CLI::App& app, Globals& g);  // create start run delete kill
void add_info_commands(CLI::App& app, Globals& g);       // state list ps features spec
void add_resource_commands(CLI::App& app, Globals& g);   // pause resume update events
void add_exec_command(CLI::App& app, Globals& g);        // exec

}  // namespace husk::cli
