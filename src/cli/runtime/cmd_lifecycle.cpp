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

void add_lifecycle_commands(CLI::App& app, Globals& g, LifecycleRequest& r) {
    auto verb = [&r](const char* name) { return [&r, name] { r.verb = name; }; };
    if (g.wants("create")) {
        auto* create = app.add_subcommand("create", "create a container (it waits for start)");
        add_create_flags(create, r.create);
        create->callback(verb("create"));
    }

    if (g.wants("run")) {
        auto* run =
            app.add_subcommand("run", "create and start a container, wait for it, delete it");
        add_create_flags(run, r.create);
        run->add_flag("--detach,-d", r.detach, "do not wait for the container");
        run->add_flag("--keep", r.keep, "ignored (runc keeps the container; husk deletes it)");
        run->callback(verb("run"));
    }

    if (g.wants("start")) {
        auto* start = app.add_subcommand("start", "start a created container");
        start->add_option("id", r.create.id, "container id")->required();
        start->callback(verb("start"));
    }

    if (g.wants("delete", "rm")) {
        auto* del = app.add_subcommand("delete", "delete a container");
        del->alias("rm");
        del->add_flag("--force,-f", r.force, "kill a running container first");
        del->add_option("id", r.create.id, "container id")->required();
        del->callback(verb("delete"));
    }

    if (g.wants("kill")) {
        auto* kill = app.add_subcommand("kill", "send a signal to the container's init");
        kill->add_flag("--all,-a", r.all, "signal every process of the container");
        kill->add_option("id", r.create.id, "container id")->required();
        kill->add_option("signal", r.signal, "signal number or name (default SIGTERM)");
        kill->callback(verb("kill"));
    }
}

void run_lifecycle(Globals& g, LifecycleRequest& r) {
    const std::string& id = r.create.id;
    if (r.verb == "create" || r.verb == "run") {
        r.create.root = g.root;
        r.create.rootless = g.is_rootless();
        r.create.listen_fds = runtime::socket_activation_fds();
        if (r.verb == "create")
            runtime::create(r.create);
        else
            g.exit_code = runtime::run(r.create, r.detach);
    } else if (r.verb == "start") {
        runtime::start(g.root, id);
    } else if (r.verb == "kill") {
        runtime::kill(g.root, id, runtime::parse_signal(r.signal), r.all);
    } else if (r.verb == "delete") {
        runtime::remove(g.root, id, r.force);
    }
}

}  // namespace husk::cli
