// exec: a new process in a running container.
#include <CLI/CLI.hpp>

#include "cli/runtime/commands.h"
#include "runtime/container.h"
#include "runtime/security/lsm.h"
#include "sys/error.h"

namespace husk::cli {

void add_exec_command(CLI::App& app, Globals& g) {
    if (!g.wants("exec")) return;
    static runtime::ExecOptions o;
    static std::vector<std::string> command;
    static std::string cgroup, apparmor, label;
    auto* ex = app.add_subcommand("exec", "run a new process inside a running container");
    // runc users write `exec ID sh -c CMD`: everything after the id belongs to the command.
    ex->positionals_at_end(true);
    ex->add_option("--process,-p", o.process_file, "process.json describing the process");
    ex->add_flag("--detach,-d", o.detach, "do not wait for the process");
    ex->add_option("--pid-file", o.pid_file, "file to write the process's pid to");
    ex->add_option("--console-socket", o.console_socket, "unix socket to send the pty master to");
    ex->add_flag("--tty,-t", o.tty, "allocate a pseudo-terminal");
    ex->add_option("--cwd", o.cwd, "working directory inside the container");
    ex->add_option("--env,-e", o.env, "KEY=VALUE to set (repeatable)")->allow_extra_args(false);
    ex->add_option("--user,-u", o.user, "uid[:gid]");
    ex->add_option("--additional-gids,-g", o.additional_gids, "supplementary groups (repeatable)")
        ->allow_extra_args(false);
    ex->add_option("--cap,-c", o.caps, "capability to add (repeatable)")->allow_extra_args(false);
    ex->add_flag("--no-new-privs", o.no_new_privs, "set no_new_privs");
    ex->add_option("--preserve-fds", o.preserve_fds, "pass N more fds (from 3)");
    ex->add_flag("--ignore-paused", o.ignore_paused, "exec even into a paused container");
    ex->add_option("--cgroup", cgroup, "join a sub-cgroup (not supported)");
    ex->add_option("--apparmor", apparmor, "AppArmor profile (refused: husk applies none)");
    ex->add_option("--process-label", label, "SELinux label (refused: husk applies none)");
    ex->add_option("id", o.id, "container id")->required();
    ex->add_option("command", command, "command and arguments");
    ex->callback([&g] {
        if (!cgroup.empty()) throw Error("--cgroup: joining a sub-cgroup is not supported");
        if (!apparmor.empty())
            runtime::security::refuse_lsm("--apparmor", apparmor, runtime::security::Lsm::apparmor);
        if (!label.empty())
            runtime::security::refuse_lsm("--process-label", label,
                                          runtime::security::Lsm::selinux);
        o.root = g.root;
        o.args = command;
        g.exit_code = runtime::exec(o);
    });
}

}  // namespace husk::cli
