// icount: user-mode instructions executed by a command and every process and thread it
// starts (clone, clone3, fork, vfork, exec followed), counted by single-stepping under
// ptrace. Hardware counters are not available on this kind of VM and valgrind does not
// follow clone3: this is slow (a few µs per instruction) but exact and independent of load.
//
//   icount [-p PROFILE] [-s EVERY] [-t TRACE] -- COMMAND [ARGS...]
//
// Prints "instructions: N" (and per process: pid, exec'd path, count) to stderr. With -p,
// writes every EVERY-th (default 97) instruction pointer of each process as "pid path
// hexoffset" lines to PROFILE (the offset in that binary: `addr2line -f -e BINARY` names it).
// With -t, writes "pid count syscall-number" to TRACE at every syscall instruction: the
// instructions spent between two syscalls (parsing a file read by the one before, say).
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_TASKS 4096

struct task {
    pid_t tid;
    unsigned long long steps;
    char exe[256];
    unsigned long long base, end;  // the exe's mappings: ips profiled as offsets within it
};

static struct task tasks[MAX_TASKS];
static int ntasks;

static struct task* task_of(pid_t tid) {
    for (int i = 0; i < ntasks; ++i)
        if (tasks[i].tid == tid) return &tasks[i];
    if (ntasks == MAX_TASKS) return NULL;
    struct task* t = &tasks[ntasks++];
    t->tid = tid;
    t->steps = 0;
    snprintf(t->exe, sizeof t->exe, "?");
    return t;
}

static void read_exe(struct task* t) {
    char link[64];
    snprintf(link, sizeof link, "/proc/%d/exe", t->tid);
    ssize_t n = readlink(link, t->exe, sizeof t->exe - 1);
    if (n < 0) n = 0;
    t->exe[n] = 0;
    t->base = t->end = 0;
    struct stat st;
    if (stat(link, &st) != 0) return;
    snprintf(link, sizeof link, "/proc/%d/maps", t->tid);
    FILE* f = fopen(link, "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        unsigned long long lo, hi, inode;
        // by inode: a binary run from a private mount of itself has no usable path
        if (sscanf(line, "%llx-%llx %*s %*s %*s %llu", &lo, &hi, &inode) < 3) continue;
        if (inode != (unsigned long long)st.st_ino) continue;
        if (t->base == 0 || lo < t->base) t->base = lo;
        if (hi > t->end) t->end = hi;
    }
    fclose(f);
}

static unsigned long long total_steps(void) {
    unsigned long long n = 0;
    for (int i = 0; i < ntasks; ++i) n += tasks[i].steps;
    return n;
}

int main(int argc, char** argv) {
    const char* profile = NULL;
    const char* trace = NULL;
    unsigned every = 97;
    int i = 1;
    for (; i < argc; ++i) {
        if (!strcmp(argv[i], "-p") && i + 1 < argc)
            profile = argv[++i];
        else if (!strcmp(argv[i], "-t") && i + 1 < argc)
            trace = argv[++i];
        else if (!strcmp(argv[i], "-s") && i + 1 < argc)
            every = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--")) {
            ++i;
            break;
        } else
            break;
    }
    if (i >= argc || every == 0) {
        fprintf(stderr, "usage: icount [-p PROFILE] [-s EVERY] [-t TRACE] -- COMMAND [ARGS...]\n");
        return 2;
    }
    FILE* prof = profile ? fopen(profile, "w") : NULL;
    if (profile && !prof) {
        perror(profile);
        return 2;
    }
    FILE* tr = trace ? fopen(trace, "w") : NULL;
    if (trace && !tr) {
        perror(trace);
        return 2;
    }
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 2;
    }
    if (child == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        raise(SIGSTOP);
        execvp(argv[i], argv + i);
        perror(argv[i]);
        _exit(127);
    }
    int status = 0;
    if (waitpid(child, &status, 0) < 0 || !WIFSTOPPED(status)) {
        perror("waitpid");
        return 2;
    }
    ptrace(PTRACE_SETOPTIONS, child, 0,
           PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC |
               PTRACE_O_EXITKILL);
    task_of(child);
    ptrace(PTRACE_SINGLESTEP, child, 0, 0);
    int exit_code = 0;
    for (;;) {
        pid_t tid = waitpid(-1, &status, __WALL);
        if (tid < 0) {
            if (errno == EINTR) continue;
            break;  // ECHILD: all gone
        }
        if (getenv("ICOUNT_LIMIT") && total_steps() > strtoull(getenv("ICOUNT_LIMIT"), NULL, 10)) {
            fprintf(stderr, "icount: over ICOUNT_LIMIT instructions; stopping\n");
            kill(child, SIGKILL);
        }
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            if (tid == child)
                exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            continue;
        }
        if (!WIFSTOPPED(status)) continue;
        struct task* t = task_of(tid);
        int sig = WSTOPSIG(status);
        int deliver = 0;
        if (sig == SIGTRAP) {
            int event = status >> 16;
            if (event == PTRACE_EVENT_EXEC) {
                if (t) read_exe(t);
            } else if (event == 0 && t) {
                ++t->steps;  // one instruction done
                if (tr) {    // about to execute `syscall` (0f 05)?
                    struct user_regs_struct regs;
                    if (ptrace(PTRACE_GETREGS, tid, 0, &regs) == 0) {
                        errno = 0;
                        long word = ptrace(PTRACE_PEEKTEXT, tid, (void*)regs.rip, 0);
                        if (errno == 0 && (word & 0xffff) == 0x050f)
                            fprintf(tr, "%d %llu %llu\n", tid, t->steps, regs.rax);
                    }
                }
                if (prof && t->steps % every == 0) {
                    struct user_regs_struct regs;
                    if (ptrace(PTRACE_GETREGS, tid, 0, &regs) == 0) {
                        if (t->exe[0] == '?') read_exe(t);
                        unsigned long long ip = regs.rip;
                        if (ip >= t->base && ip < t->end)
                            fprintf(prof, "%d %s %llx\n", tid, t->exe, ip - t->base);
                        else
                            fprintf(prof, "%d %s outside:%llx\n", tid, t->exe, ip);
                    }
                }
            }
        } else if (sig == SIGSTOP && t && t->steps == 0) {
            // a new task's initial stop
        } else {
            deliver = sig;
        }
        ptrace(PTRACE_SINGLESTEP, tid, 0, deliver);
    }
    unsigned long long total = 0;
    for (int k = 0; k < ntasks; ++k) {
        total += tasks[k].steps;
        fprintf(stderr, "  task %d %s: %llu\n", tasks[k].tid, tasks[k].exe, tasks[k].steps);
    }
    fprintf(stderr, "instructions: %llu\n", total);
    if (prof) fclose(prof);
    if (tr) fclose(tr);
    return exit_code;
}
