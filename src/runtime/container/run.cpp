// run: create + start, then (unless detached) wait for the init as its parent,
// forward signals to it, and delete the container when it exits.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <cerrno>
#include <optional>

#include <sys/socket.h>

#include "oci/spec.h"
#include "runtime/cgroup/manager.h"
#include "runtime/child_wait.h"
#include "runtime/container.h"
#include "runtime/container/known_state.h"
#include "runtime/state.h"
#include "runtime/terminal.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/unix_socket.h"

namespace husk::runtime {
namespace {

// The OOM kills of the container's cgroup (as create made it); 0 when it cannot be read.
uint64_t oom_kills_of(const KnownState& known) {
    try {
        return known.cg ? known.cg->oom_kills() : 0;
    } catch (const std::exception&) {
        return 0;
    }
}

}  // namespace

int run(const CreateOptions& in, bool detach, RunEvents* events) {
    // Without a PID namespace, the init's children are reparented to us, not to PID 1
    // (which does not reap on these machines).
    ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    CreateOptions opts = in;
    // Without a console: does the bundle ask for a terminal? In the foreground we are then
    // the console socket's other end. The config read here is the one create uses.
    bool no_console = opts.console_socket.empty() && opts.console_fd < 0;
    std::optional<oci::Spec> spec;
    if (no_console && !opts.spec) {
        spec = oci::load_spec((opts.bundle.empty() ? "." : opts.bundle) + "/config.json");
        opts.spec = &*spec;
    }
    bool wants_terminal = no_console && opts.spec->process && opts.spec->process->terminal;
    sys::UniqueFd ours, theirs, master;
    if (wants_terminal) {
        if (detach) throw Error("a detached container with a terminal needs --console-socket");
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) throw_sys("socketpair");
        ours.reset(sv[0]);
        theirs.reset(sv[1]);
        opts.console_fd = theirs.get();
    }
    KnownState known;  // start and delete need not parse what create wrote
    pid_t pid = create(opts, &known);
    if (ours) {
        theirs.reset();
        master.reset(sys::recv_fd(ours.get()));
    }
    if (!detach) forward_signals_to(pid);
    try {
        if (events && events->created) events->created(pid);
        start(opts.root, opts.id, &known);
    } catch (...) {
        remove(opts.root, opts.id, true, &known);
        throw;
    }
    if (detach) return 0;
    if (master) relay_terminal(master.get(), events == nullptr || events->terminal_input);
    int code = wait_child(pid);
    if (events) events->oom_kills = oom_kills_of(known);
    remove(opts.root, opts.id, true, &known);
    return code;
}

}  // namespace husk::runtime
