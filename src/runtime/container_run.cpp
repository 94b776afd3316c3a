// run: create + start, then (unless detached) wait for the init as its parent,
// forward signals to it, and delete the container when it exits.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <cerrno>

#include <sys/socket.h>

#include "oci/spec.h"
#include "runtime/container.h"
#include "runtime/security/seccomp.h"
#include "runtime/terminal.h"
#include "sys/error.h"
#include "sys/fd.h"

namespace husk::runtime {
namespace {

volatile sig_atomic_t g_child = 0;

void forward(int sig) {
    if (g_child > 0) ::kill(g_child, sig);
}

// Forward the signals a user or an engine sends to `run` to the container's init.
void install_forwarding(pid_t pid) {
    g_child = pid;
    struct sigaction sa {};
    sa.sa_handler = forward;
    sa.sa_flags = SA_RESTART;
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT})
        ::sigaction(s, &sa, nullptr);
}

// Wait for `pid`, reaping any orphan that was reparented to us meanwhile.
int wait_init(pid_t pid) {
    for (;;) {
        int status = 0;
        pid_t r = ::waitpid(-1, &status, __WALL);
        if (r < 0) {
            if (errno == EINTR) continue;
            throw_sys("wait for container init");
        }
        if (r != pid) continue;
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    }
}

}  // namespace

// The bundle asks for a terminal: in the foreground we are the console socket's other end.
bool wants_terminal(const CreateOptions& opts) {
    std::string bundle = opts.bundle.empty() ? "." : opts.bundle;
    oci::Spec spec = oci::load_spec(bundle + "/config.json");
    return spec.process && spec.process->terminal;
}

int run(const CreateOptions& in, bool detach) {
    // Without a PID namespace, the init's children are reparented to us, not to PID 1
    // (which does not reap on these machines).
    ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    CreateOptions opts = in;
    sys::UniqueFd ours, theirs, master;
    if (opts.console_socket.empty() && opts.console_fd < 0 && wants_terminal(opts)) {
        if (detach) throw Error("a detached container with a terminal needs --console-socket");
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) throw_sys("socketpair");
        ours.reset(sv[0]);
        theirs.reset(sv[1]);
        opts.console_fd = theirs.get();
    }
    pid_t pid = create(opts);
    if (ours) {
        theirs.reset();
        master.reset(security::recv_fd(ours.get()));
    }
    if (!detach) install_forwarding(pid);
    try {
        start(opts.root, opts.id);
    } catch (...) {
        remove(opts.root, opts.id, true);
        throw;
    }
    if (detach) return 0;
    if (master) relay_terminal(master.get());
    int code = wait_init(pid);
    remove(opts.root, opts.id, true);
    return code;
}

}  // namespace husk::runtime
