/* husk-init: PID 1 of `husk run --init`.
 *
 * usage: husk-init [--] COMMAND [ARG...]
 *
 * Runs COMMAND as its child in a process group of its own (the terminal's
 * foreground group when stdin is a terminal), forwards every signal it gets to
 * that child, reaps every zombie (orphans are reparented to PID 1), and exits
 * with the child's status: its exit code, or 128+n when signal n killed it.
 * Exit codes of its own: 126 COMMAND not executable, 127 not found. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char* what) {
    fprintf(stderr, "husk-init: %s: %s\n", what, strerror(errno));
    _exit(125);
}

int main(int argc, char** argv) {
    int first = 1;
    if (first < argc && strcmp(argv[first], "--") == 0) ++first;
    if (first >= argc) {
        fprintf(stderr, "usage: husk-init [--] COMMAND [ARG...]\n");
        return 125;
    }
    /* Not PID 1 (e.g. --pid=host): still reap our orphans. */
    if (getpid() != 1) prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

    sigset_t all, old;
    sigfillset(&all);
    if (sigprocmask(SIG_BLOCK, &all, &old) != 0) die("sigprocmask");

    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        setpgid(0, 0);
        if (isatty(STDIN_FILENO)) {
            signal(SIGTTOU, SIG_IGN);
            tcsetpgrp(STDIN_FILENO, getpid());
            signal(SIGTTOU, SIG_DFL);
        }
        sigprocmask(SIG_SETMASK, &old, NULL);
        execvp(argv[first], argv + first);
        int e = errno;
        fprintf(stderr, "husk-init: exec %s: %s\n", argv[first], strerror(e));
        _exit(e == ENOENT ? 127 : 126);
    }

    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&all, &si);
        if (sig < 0) {
            if (errno == EINTR) continue;
            die("sigwaitinfo");
        }
        if (sig != SIGCHLD) {
            /* SIGSTOP/SIGKILL never arrive here; terminal stops go to the child */
            kill(child, sig);
            continue;
        }
        for (;;) {
            int status = 0;
            pid_t r = waitpid(-1, &status, WNOHANG);
            if (r <= 0) break;
            if (r != child) continue;
            if (WIFEXITED(status)) return WEXITSTATUS(status);
            if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
        }
    }
}
