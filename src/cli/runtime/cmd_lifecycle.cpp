// create, start, run, delete, kill.
#include <CLI/CLI.hpp>

#include "cli/runtime/commands.h"
#include "runtime/container.h"
#include "runtime/signals.h"

namespace husk::cli {
namespace {

void add_create_flags(CLI::App* cmd, runtime::CreateOptions& o) {
    cmd->add_option("--bundle,-b", o.bundle, "path to the bundle (default: current directory)");
    cmd->add_option("--pid-file", o.pid_file, "file to write the init's pid to");
    cmd->add_option("--console-socket", o.console_socket, "unix socket to send the pty master to");
    cmd->add_flag("--no-pivot", o.no_pivot, "use chroot instead of pivot_root (unsafe)");
    cmd->add_flag("--no-new-keyring", o.no_new_keyring, "do not create a new session keyring");
    cmd->add_option("--preserve-fds", o.preserve_fds, "pass N more fds (from 3) to the container");
    cmd->add_option("id", o.id, "container id")->required();
}

}  // namespace

void add_lifecycle_commands(CLI::App& app, Globals& g) {
    if (g.wants("create")) {
        static runtime::CreateOptions create_opts;
        auto* create = app.add_subcommand("create", "create a container (it waits for start)");
        add_create_flags(create, create_opts);
        create->callback([&g] {
            create_opts.root = g.root;
            create_opts.rootless = g.is_rootless();
            create_opts.listen_fds = runtime::socket_activation_fds();
            runtime::create(create_opts);
        });
    }

    if (g.wants("run")) {
        static runtime::CreateOptions run_opts;
        static bool detach = false;
        auto* run =
            app.add_subcommand("run", "create and start a container, wait for it, delete it");
        add_create_flags(run, run_opts);
        run->add_flag("--detach,-d", detach, "do not wait for the container");
        static bool keep = false;
        run->add_flag("--keep", keep, "ignored (runc keeps the container; husk deletes it)");
        run->callback([&g] {
            run_opts.root = g.root;
            run_opts.rootless = g.is_rootless();
            run_opts.listen_fds = runtime::socket_activation_fds();
            g.exit_code = runtime::run(run_opts, detach);
        });
    }

    if (g.wants("start")) {
        static std::string start_id;
        auto* start = app.add_subcommand("start", "start a created container");
        start->add_option("id", start_id, "container id")->required();
        start->callback([&g] { runtime::start(g.root, start_id); });
    }

    if (g.wants("delete", "rm")) {
        static std::string del_id;
        static bool force = false;
        auto* del = app.add_subcommand("delete", "delete a container");
        del->alias("rm");
        del->add_flag("--force,-f", force, "kill a running container first");
        del->add_option("id", del_id, "container id")->required();
        del->callback([&g] { runtime::remove(g.root, del_id, force); });
    }

    if (g.wants("kill")) {
        static std::string kill_id, kill_sig = "SIGTERM";
        static bool all = false;
        auto* kill = app.add_subcommand("kill", "send a signal to the container's init");
        kill->add_flag("--all,-a", all, "signal every process of the container");
        kill->add_option("id", kill_id, "container id")->required();
        kill->add_option("signal", kill_sig, "signal number or name (default SIGTERM)");
        kill->callback(
            [&g] { runtime::kill(g.root, kill_id, runtime::parse_signal(kill_sig), all); });
    }
}

}  // namespace husk::cli
