// husk exec [-i] [-t] [-d] [-u USER] [-e K=V]... [-w DIR] [--privileged] CONTAINER CMD...
// A process in a running container: all its namespaces and its cgroup, with its
// capabilities, seccomp filter, no_new_privs and user (runtime::exec does it).
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "cli/husk/container_cmd.h"
#include "engine/lifecycle.h"
#include "engine/user.h"
#include "runtime/container.h"
#include "runtime/security/capabilities.h"
#include "sys/error.h"

namespace husk::cli {
namespace {

struct ExecFlags {
    bool interactive = false, tty = false, detach = false, privileged = false;
    std::string user, workdir, detach_keys;
    std::vector<std::string> env;
};

int exec_in(Context& ctx, ExecFlags& f, std::vector<std::string> rest) {
    if (!rest.empty() && rest[0].starts_with("-")) {
        fmt::print(stderr, "husk: unknown flag: {}\n", rest[0]);
        return 125;
    }
    if (rest.size() < 2) {
        fmt::print(
            stderr,
            "husk: \"husk exec\" requires at least 2 arguments: CONTAINER COMMAND [ARG...]\n");
        return 125;
    }
    auto ec = engine_context(ctx);
    auto rec = engine::lookup(ec, rest[0]);
    if (rec.status != "running") throw Error(fmt::format("Container {} is not running", rec.id));
    runtime::ExecOptions o;
    o.root = ec.state_root();
    o.id = rec.id;
    o.args.assign(rest.begin() + 1, rest.end());
    o.env = f.env;
    o.cwd = f.workdir;
    if (!f.user.empty()) {
        auto u = engine::resolve_user(rec.rootfs, f.user);
        o.user = fmt::format("{}:{}", u.uid, u.gid);
        o.additional_gids = u.additional_gids;
    }
    if (f.privileged) {
        int last = runtime::security::last_cap();
        o.caps = runtime::security::cap_names(last >= 63 ? ~0ULL : (1ULL << (last + 1)) - 1);
    }
    o.tty = f.tty;
    o.detach = f.detach;
    if (!f.interactive || f.detach) {
        int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            ::dup2(fd, STDIN_FILENO);
            ::close(fd);
        }
    }
    try {
        return runtime::exec(o);
    } catch (const Error& e) {
        try {
            engine::rethrow_create_error(e, o.args);
        } catch (const engine::RunError& re) {
            std::fflush(stdout);
            fmt::print(stderr, "husk: {}\n", re.what());
            return re.exit_code() == engine::kExitEngineError ? 126 : re.exit_code();
        }
    }
}

void add_exec(CLI::App& app, Context& ctx, Commands& cmds) {
    auto f = std::make_shared<ExecFlags>();
    auto* sub = app.add_subcommand("exec", "run a command in a running container");
    sub->add_flag("-i,--interactive", f->interactive, "keep stdin open");
    sub->add_flag("-t,--tty", f->tty, "allocate a pseudo-terminal");
    sub->add_flag("-d,--detach", f->detach, "run it in the background");
    sub->add_option("-u,--user", f->user, "user[:group] (names from the container's files)");
    sub->add_option("-e,--env", f->env, "set an environment variable")->allow_extra_args(false);
    sub->add_option("-w,--workdir", f->workdir, "working directory inside the container");
    sub->add_flag("--privileged", f->privileged, "every capability");
    sub->add_option("--detach-keys", f->detach_keys, "accepted for docker's sake");
    sub->prefix_command();
    cmds.on(sub, [f, sub, &ctx] { return exec_in(ctx, *f, sub->remaining()); });
}

}  // namespace

HUSK_COMMAND(exec, add_exec);

}  // namespace husk::cli
