// husk exec [-i] [-t] [-d] [-u USER] [-e K=V]... [-w DIR] [--privileged] CONTAINER CMD...
// A process in a running container: all its namespaces and its cgroup, with its
// capabilities, seccomp filter, no_new_privs and user (runtime::exec does it).
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <functional>

#include "cli/husk/container_cmd.h"
#include "engine/lifecycle.h"
#include "engine/user.h"
#include "image/store.h"
#include "runtime/container.h"
#include "runtime/security/capabilities.h"
#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/user_dirs.h"

namespace husk::cli {
namespace {

struct ExecFlags {
    bool interactive = false, tty = false, detach = false, privileged = false;
    std::string user, workdir, detach_keys;
    std::vector<std::string> env;
};

// runtime::exec, its errors printed as docker prints them (after `before_error`); the
// exit code.
int exec_reporting(const runtime::ExecOptions& o, const std::function<void()>& before_error = {}) {
    try {
        return runtime::exec(o);
    } catch (const Error& e) {
        if (before_error) before_error();
        Error failed = engine::create_error(e, o.args);
        std::fflush(stdout);
        fmt::print(stderr, "husk: {}\n", failed.what());
        return failed.exit_code() == engine::kExitEngineError ? 126 : failed.exit_code();
    }
}

// docker's exec -d: the process runs detached from the caller, its stdio on /dev/null and
// in a session of its own (the caller's terminal hanging up does not reach it). A child of
// ours, already in that session, starts it (errors still reach our stderr), tells us how
// that went and exits: the process is then adopted like any daemon (by the nearest
// subreaper, else PID 1), as husk-monitor is.
int exec_detached(runtime::ExecOptions& o) {
    o.detach = true;
    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) throw_sys("pipe2");
    std::fflush(stdout);
    std::fflush(stderr);
    pid_t child = ::fork();
    if (child < 0) throw_sys("fork");
    if (child == 0) {
        ::close(ready[0]);
        ::setsid();
        int err = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        for (int fd = 0; fd < 3; ++fd) ::dup2(null, fd);
        ::close(null);
        // The process gets /dev/null; our own error messages go to the caller's stderr.
        auto restore = [err] { ::dup2(err, STDERR_FILENO); };
        int code = 126;
        try {
            code = exec_reporting(o, restore);
        } catch (const std::exception& e) {
            restore();
            fmt::print(stderr, "husk: {}\n", e.what());
        }
        std::fflush(stderr);
        ::dup2(STDIN_FILENO, STDERR_FILENO);  // /dev/null again
        (void)!::write(ready[1], &code, sizeof code);
        ::_exit(code);
    }
    ::close(ready[1]);
    int code = -1;
    ssize_t n;
    do n = ::read(ready[0], &code, sizeof code);
    while (n < 0 && errno == EINTR);
    ::close(ready[0]);
    int st = 0;
    ::waitpid(child, &st, 0);
    if (n != sizeof code) code = WIFEXITED(st) ? WEXITSTATUS(st) : 126;
    return code;
}

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
    if (rec.status != engine::ContainerStatus::running)
        throw Error(fmt::format("Container {} is not running", rec.id));
    engine::refuse_if_paused(rec, "exec");
    runtime::ExecOptions o;
    o.root = ec.state_root();
    o.id = rec.id;
    o.args.assign(rest.begin() + 1, rest.end());
    o.env = f.env;
    o.cwd = f.workdir;
    if (!f.user.empty()) {
        // the running container's root: a rootless overlay is mounted only there
        bool fuse_root =
            sys::rootless() && !rec.image_id.empty() && ctx.store().fuse_overlay_rootfs(rec.id);
        auto u = rec.pid > 0 ? engine::resolve_running_user(rec.pid, fuse_root, f.user)
                             : engine::resolve_user(rec.rootfs, f.user);
        o.user = fmt::format("{}:{}", u.uid, u.gid);
        o.additional_gids = u.additional_gids;
    }
    if (f.privileged) {
        int last = runtime::security::last_cap();
        o.caps = runtime::security::cap_names(last >= 63 ? ~0ULL : (1ULL << (last + 1)) - 1);
    }
    o.tty = f.tty;
    if (f.detach) return exec_detached(o);
    if (!f.interactive) sys::stdin_from_dev_null();
    return exec_reporting(o);
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
