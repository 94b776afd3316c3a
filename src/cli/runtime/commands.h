// husk-runtime's verbs, one registration function per group, sharing the global flags.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "runtime/container.h"

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

// What a lifecycle verb (create, start, run, delete, kill) was asked to do, as either
// parser reads argv: the hand parser (fast_path.cpp) or CLI11 (cmd_lifecycle.cpp). One
// function runs it (run_lifecycle).
struct LifecycleRequest {
    std::string verb;                // "create", "run", "start", "delete" ("rm" too), "kill"
    runtime::CreateOptions create;   // create.id: the container of every verb
    bool detach = false;             // run
    bool keep = false;               // run (ignored)
    bool force = false;              // delete
    bool all = false;                // kill
    std::string signal = "SIGTERM";  // kill
};

// The global options (the table of global_options.h) on CLI11's app, stored into `g`.
void add_global_options(CLI::App& app, Globals& g);

// create, start, run, delete, kill parsed by hand when argv spells them plainly: true with
// `g` (the global options, `root_given` when --root was) and `r` filled; false: leave argv
// to CLI11 (help, a typo, a repeated option, a value that looks like a flag, `--`...).
bool parse_fast_path(int argc, char** argv, Globals& g, bool& root_given, LifecycleRequest& r);

// parse_fast_path, then complete_globals and run_lifecycle; false: nothing was done.
bool try_fast_path(int argc, char** argv, Globals& g, const std::function<void()>& configure_log);

// Runs a parsed lifecycle request (its verb is not empty).
void run_lifecycle(Globals& g, LifecycleRequest& r);

// create start run delete kill: their options stored into `r`, r.verb set when one was given.
void add_lifecycle_commands(CLI::App& app, Globals& g, LifecycleRequest& r);
void add_info_commands(CLI::App& app, Globals& g);      // state list ps features spec
void add_resource_commands(CLI::App& app, Globals& g);  // pause resume update events
void add_exec_command(CLI::App& app, Globals& g);       // exec

}  // namespace husk::cli
