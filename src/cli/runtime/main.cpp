// husk-runtime: the OCI runtime command line, spelled as runc spells it.
#include <seccomp.h>
#include <CLI/CLI.hpp>

#include <cstdio>

#include <fmt/format.h>

#include "cli/runtime/commands.h"
#include "cli/runtime/entry.h"
#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/log.h"
#include "sys/self_exe.h"
#include "sys/user_dirs.h"

namespace {

std::string version_text() {
    const scmp_version* v = seccomp_version();
    return fmt::format("husk-runtime version {}\nspec: 1.2.0\nlibseccomp: {}.{}.{}", HUSK_VERSION,
                       v->major, v->minor, v->micro);
}

}  // namespace

namespace husk::cli {

bool Globals::is_rootless() const {
    if (rootless != "auto") return rootless == "true";
    if (sys::rootless()) return true;
    // root inside a user namespace is rootless too: the host's id map is not all of ours
    auto map = sys::read_file_if_exists("/proc/self/uid_map");
    return map && map->find("4294967295") == std::string::npos;
}

std::string_view verb_of(int argc, char** argv) {
    const char* verb = husk_runtime_verb(argc, argv);
    return verb ? std::string_view(verb) : std::string_view();
}

void complete_globals(Globals& g, bool root_given, const std::function<void()>& configure_log) {
    configure_log();
    // A user's state lives in its runtime directory, as runc's $XDG_RUNTIME_DIR/runc.
    if (!root_given && sys::rootless()) g.root = sys::xdg_runtime_dir() + "/husk-runtime";
    if (g.systemd_cgroup)
        throw Error("--systemd-cgroup: the systemd cgroup driver is not supported; use cgroupfs");
}

}  // namespace husk::cli

namespace {
int runtime_main(int argc, char** argv) {
    husk::cli::Globals g;
    g.verb = husk::cli::verb_of(argc, argv);
    // The verbs whose processes are clones of us until their execve (create, run, exec)
    // run from a read-only mount of our own binary (CVE-2019-5736; sys/self_exe.h). The
    // entry point (entry.c) re-executed us from one before the C library started; if it
    // could not, try again here, before the command line and the bundle are parsed
    // (create's and exec's own check then finds the binary sealed, or logs why not).
    if (husk_runtime_verb_clones(g.verb.data()) != 0) husk::sys::reexec_from_readonly_self();
    // Log configuration must happen before any verb runs: after the global flags are
    // parsed (CLI11's parse_complete_callback), before the verb.
    bool configured = false;
    auto configure_log = [&] {
        if (configured) return;
        configured = true;
        husk::log::configure(
            g.log, g.log_format == "json" ? husk::log::Format::json : husk::log::Format::text,
            g.debug);
    };
    auto fail = [&](const std::exception& e) {
        configure_log();
        husk::log::error("{}", e.what());
        if (!g.log.empty()) std::fprintf(stderr, "husk-runtime: %s\n", e.what());
        return 1;
    };
    try {
        if (husk::cli::try_fast_path(argc, argv, g, configure_log)) return g.exit_code;
    } catch (const std::exception& e) {
        return fail(e);
    }

    CLI::App app{"husk-runtime: an OCI container runtime", "husk-runtime"};
    app.set_version_flag("--version,-v", version_text());
    auto* root_opt =
        app.add_option("--root", g.root,
                       "state directory of the containers (default /run/husk-runtime; as a user "
                       "$XDG_RUNTIME_DIR/husk-runtime)");
    app.add_option("--log", g.log, "log file (appended to)");
    app.add_option("--log-format", g.log_format, "log format: text or json")
        ->check(CLI::IsMember({"text", "json"}));
    app.add_flag("--debug", g.debug, "log debug messages");
    app.add_flag("--systemd-cgroup", g.systemd_cgroup, "use systemd to manage cgroups");
    app.add_option("--rootless", g.rootless,
                   "true, false or auto (default: auto, rootless when not root on the host)")
        ->check(CLI::IsMember({"true", "false", "auto"}));
    app.add_option("--criu", "ignored: checkpoint/restore is not supported");
    app.require_subcommand(1);
    husk::cli::add_lifecycle_commands(app, g);
    husk::cli::add_info_commands(app, g);
    husk::cli::add_resource_commands(app, g);
    husk::cli::add_exec_command(app, g);

    app.parse_complete_callback(
        [&] { husk::cli::complete_globals(g, root_opt->count() != 0, configure_log); });
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::string msg = e.what();
        configure_log();
        husk::log::error("{}", msg);
        if (!g.log.empty()) std::fprintf(stderr, "husk-runtime: %s\n", msg.c_str());
        return 1;
    } catch (const std::exception& e) {
        return fail(e);
    }
    return g.exit_code;
}
}  // namespace

int main(int argc, char** argv) {
    try {
        return runtime_main(argc, argv);
    } catch (const std::exception& e) {  // setting up the command line itself failed
        std::fprintf(stderr, "husk-runtime: %s\n", e.what());
        return 1;
    }
}
