#include "runtime/child_wait.h"

#include <signal.h>
#include <sys/wait.h>

#include <cerrno>

#include "sys/error.h"

namespace husk::runtime {
namespace {

volatile sig_atomic_t g_child = 0;

void forward(int sig) {
    if (g_child > 0) ::kill(g_child, sig);
}

}  // namespace

void forward_signals_to(pid_t pid) {
    g_child = pid;
    struct sigaction sa {};
    sa.sa_handler = forward;
    sa.sa_flags = SA_RESTART;
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT})
        ::sigaction(s, &sa, nullptr);
}

int wait_child(pid_t pid) {
    for (;;) {
        int status = 0;
        pid_t r = ::waitpid(-1, &status, __WALL);
        if (r < 0) {
            if (errno == EINTR) continue;
            throw_sys("wait for the container process");
        }
        if (r != pid) continue;  // an orphan reparented to us
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    }
}

}  // namespace husk::runtime
