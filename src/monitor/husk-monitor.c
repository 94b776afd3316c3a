// husk-monitor: the parent of one detached container (what conmon is to podman).
//
// `husk` forks, makes the child a subreaper in a session of its own, starts the
// container's creation from a grandchild and then execs this small static program
// in the child, so the container's init is reparented to us. We then
//   - hold the container's stdio (pipes, or the pty master received over a socket),
//   - write what it prints as docker json-file lines, rotating at --max-size,
//   - serve `husk attach` on ./attach.sock (bound by husk before the container is
//     created, so a client connecting early misses nothing; framed, see below),
//   - write ./exit.json (exit code, finish time) atomically when the init exits, and the
//     container's die event to the events journal (engine/events.h: one O_APPEND write),
//   - carry out the restart policy (restart_policy.h): after docker's backoff, run
//     `husk container-restart ID`, which creates and starts the container again through
//     the engine with its stdio on our fresh pipes; its init is then reparented to us,
//   - run `husk healthcheck run ID` every health interval while the container runs (the
//     start interval in the start period, while it is still "starting", as docker does),
//   - and at the end exec `husk container-cleanup ID` (husk's argv is given after "--").
// The caller passes us an fd holding an fcntl write lock on ./monitor.lock: while this
// process (or the cleanup it execs) lives, the container counts as monitored.
//
// No allocation on the heap, no libraries: its PSS is what a container costs at rest.
//
// Attach protocol: monitor/attach_protocol.h (shared with the client in husk).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "attach_protocol.h"
#include "restart_policy.h"

enum { kMaxClients = 8, kLineMax = 16384, kClientBuf = 4096 + HUSK_ATTACH_HEADER_SIZE };

struct stream {
    int fd;
    int type;  // HUSK_ATTACH_STDOUT or HUSK_ATTACH_STDERR
    size_t len;
    char line[kLineMax];
};

struct client {
    int fd;
    size_t len;
    unsigned char buf[kClientBuf];
};

static struct {
    const char* log_path;
    long long max_size;  // 0: no rotation
    int max_file;
    int log_fd;
    long long log_size;
    int in_fd;  // container stdin (pipe write end or pty master); -1: none
    int pty;    // the pty master (tty mode), else -1
    struct stream out, err;
    struct client clients[kMaxClients];
    int listen_fd;
    int no_restart;  // a NO_RESTART frame came: stopped through husk
    int held;        // the fd of the last HOLD frame (slirp4netns's exit pipe), -1: none
    struct husk_restart_policy policy;  // from argv, then ./restart-policy
    // what the events, restarts and health checks need
    const char* events;  // the journal
    const char* id;
    const char* name;
    const char* image;
    char** husk;  // husk's argv (up to NULL): husk --root R
    int tty;
    long health_ms;         // 0: no health check
    long health_start_ms;   // between checks in the start period (0: no start period)
    long health_period_ms;  // the start period
    pid_t health_pid;
} M;

static void die(const char* what) {
    dprintf(STDERR_FILENO, "husk-monitor: %s: %s\n", what, strerror(errno));
    _exit(1);
}

// ---- json-file log --------------------------------------------------------------------

static void rfc3339nano(char* out, size_t n) {
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t k = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + k, n - k, ".%09ldZ", ts.tv_nsec);
}

static void open_log(int trunc) {
    if (M.log_fd >= 0) close(M.log_fd);
    M.log_fd =
        open(M.log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (trunc ? O_TRUNC : 0), 0640);
    if (M.log_fd < 0) die("open log");
    struct stat st;
    M.log_size = fstat(M.log_fd, &st) == 0 ? st.st_size : 0;
}

// docker's json-file rotation: log -> log.1 -> ... -> log.(max_file-1); max_file 1 truncates.
static void rotate(void) {
    char from[4096], to[4096];
    for (int i = M.max_file - 1; i >= 1; --i) {
        if (i == 1)
            snprintf(from, sizeof from, "%s", M.log_path);
        else
            snprintf(from, sizeof from, "%s.%d", M.log_path, i - 1);
        snprintf(to, sizeof to, "%s.%d", M.log_path, i);
        rename(from, to);
    }
    open_log(1);
}

static size_t json_escape(char* out, const char* s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    for (size_t i = 0; i < n; ++i) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
            case '"':
                out[k++] = '\\';
                out[k++] = '"';
                break;
            case '\\':
                out[k++] = '\\';
                out[k++] = '\\';
                break;
            case '\n':
                out[k++] = '\\';
                out[k++] = 'n';
                break;
            case '\r':
                out[k++] = '\\';
                out[k++] = 'r';
                break;
            case '\t':
                out[k++] = '\\';
                out[k++] = 't';
                break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    memcpy(out + k, "\\u00", 4);
                    out[k + 4] = hex[c >> 4];
                    out[k + 5] = hex[c & 15];
                    k += 6;
                } else {
                    out[k++] = (char)c;
                }
        }
    }
    return k;
}

static void write_all(int fd, const void* p, size_t n) {
    const char* c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        c += w;
        n -= (size_t)w;
    }
}

static void log_entry(int type, const char* s, size_t n) {
    static char buf[kLineMax * 6 + 128];
    char ts[64];
    rfc3339nano(ts, sizeof ts);
    size_t k = (size_t)snprintf(buf, sizeof buf, "{\"log\":\"");
    k += json_escape(buf + k, s, n);
    k += (size_t)snprintf(buf + k, sizeof buf - k, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n",
                          type == HUSK_ATTACH_STDERR ? "stderr" : "stdout", ts);
    if (M.max_size > 0 && M.log_size > 0 && M.log_size + (long long)k > M.max_size) rotate();
    write_all(M.log_fd, buf, k);
    M.log_size += (long long)k;
}

// Complete lines become entries; a line longer than kLineMax is split, as docker does.
static void log_data(struct stream* st, const char* p, size_t n, int final) {
    while (n > 0) {
        size_t take = kLineMax - st->len;
        if (take > n) take = n;
        memcpy(st->line + st->len, p, take);
        st->len += take;
        p += take;
        n -= take;
        size_t start = 0;
        for (size_t i = 0; i < st->len; ++i)
            if (st->line[i] == '\n') {
                log_entry(st->type, st->line + start, i + 1 - start);
                start = i + 1;
            }
        memmove(st->line, st->line + start, st->len - start);
        st->len -= start;
        if (st->len == kLineMax) {
            log_entry(st->type, st->line, st->len);
            st->len = 0;
        }
    }
    if (final && st->len > 0) {
        log_entry(st->type, st->line, st->len);
        st->len = 0;
    }
}

// ---- attach clients ------------------------------------------------------------------

static void drop_client(struct client* c) {
    close(c->fd);
    c->fd = -1;
    c->len = 0;
}

static void client_read(struct client* c, int flags);

static void send_frame(struct client* c, int type, const char* p, size_t n) {
    unsigned char h[HUSK_ATTACH_HEADER_SIZE];
    husk_attach_header(h, type, n);
    struct iovec iov[2] = {{h, sizeof h}, {(void*)p, n}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
    size_t want = sizeof h + n;
    ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
    if (w == (ssize_t)want) return;
    // a client too slow for a blocking socket, or gone: what it sent before it went (a
    // HOLD frame's fd) is still taken, then it is dropped
    client_read(c, MSG_DONTWAIT);
    if (c->fd >= 0) drop_client(c);
}

static void broadcast(int type, const char* p, size_t n) {
    for (int i = 0; i < kMaxClients; ++i)
        if (M.clients[i].fd >= 0) send_frame(&M.clients[i], type, p, n);
}

// `husk update --restart` writes the container's new policy to ./restart-policy before it
// returns: read at each exit, so the exit that follows the update obeys it.
static void reread_policy(void) {
    char b[64];
    int fd = open(HUSK_RESTART_POLICY_FILE, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t n = read(fd, b, sizeof b - 1);
    close(fd);
    if (n <= 0) return;
    b[n] = 0;
    b[strcspn(b, "\n")] = 0;
    struct husk_restart_policy parsed;
    if (husk_restart_parse(b, &parsed) == 0) M.policy = parsed;
}

static void client_frame(int type, const unsigned char* p, size_t n) {
    if (type == HUSK_ATTACH_STDIN && M.in_fd >= 0) {
        write_all(M.in_fd, p, n);
    } else if (type == HUSK_ATTACH_RESIZE && M.pty >= 0) {
        char b[32];
        unsigned rows = 0, cols = 0;
        if (n >= sizeof b) return;
        memcpy(b, p, n);
        b[n] = 0;
        if (sscanf(b, "%u %u", &rows, &cols) == 2) {
            struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
            ioctl(M.pty, TIOCSWINSZ, &ws);
        }
    } else if (type == HUSK_ATTACH_CLOSE_STDIN && M.in_fd >= 0 && M.pty < 0) {
        close(M.in_fd);
        M.in_fd = -1;
    } else if (type == HUSK_ATTACH_NO_RESTART) {
        M.no_restart = 1;
    }
}

// Keeps the fds that came with a message (a HOLD frame's): the last one in place of the
// one held before, closed on exec (the cleanup at the end does not hold it).
static void hold_fds(struct msghdr* mh) {
    for (struct cmsghdr* cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
        size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; ++i) {
            int fd;
            memcpy(&fd, CMSG_DATA(cm) + i * sizeof fd, sizeof fd);
            if (M.held >= 0) close(M.held);
            M.held = fd;
        }
    }
}

// Reads what client `c` sent and acts on its whole frames. `flags` MSG_DONTWAIT: nothing
// sent yet is no error.
static void client_read(struct client* c, int flags) {
    char ctl[CMSG_SPACE(4 * sizeof(int))];
    struct iovec iov = {c->buf + c->len, sizeof c->buf - c->len};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    ssize_t r = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC | flags);
    if (r > 0) hold_fds(&mh);
    if (r < 0 && (flags & MSG_DONTWAIT) && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (r <= 0) {
        drop_client(c);
        return;
    }
    c->len += (size_t)r;
    for (;;) {
        const size_t hs = HUSK_ATTACH_HEADER_SIZE;
        if (c->len < hs) return;
        size_t n = husk_attach_length(c->buf);
        if (n > sizeof c->buf - hs) {
            drop_client(c);
            return;
        }
        if (c->len < hs + n) return;
        client_frame(c->buf[0], c->buf + hs, n);
        memmove(c->buf, c->buf + hs + n, c->len - hs - n);
        c->len -= hs + n;
    }
}

// A new client is read at once, before any output is sent to it: husk's HOLD frame comes
// on a connection closed right after it, and a frame of output sent there first would fail
// (EPIPE), drop the client and lose the fd still queued (slirp4netns would end). With every
// slot taken, what it sent already is still read before it is closed.
static void accept_client(void) {
    int fd = accept4(M.listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) return;
    for (int i = 0; i < kMaxClients; ++i)
        if (M.clients[i].fd < 0) {
            M.clients[i].fd = fd;
            M.clients[i].len = 0;
            client_read(&M.clients[i], MSG_DONTWAIT);
            return;
        }
    struct client extra = {.fd = fd, .len = 0};
    client_read(&extra, MSG_DONTWAIT);
    if (extra.fd >= 0) close(extra.fd);
}

// ---- container output ----------------------------------------------------------------

// Returns 0 at EOF (or EIO: the pty's last slave closed), 1 otherwise.
static int pump(struct stream* st) {
    static char buf[32768];
    ssize_t r = read(st->fd, buf, sizeof buf);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) return 1;
    if (r <= 0) {
        log_data(st, "", 0, 1);
        close(st->fd);
        if (st->fd == M.pty) M.pty = M.in_fd = -1;
        st->fd = -1;
        return 0;
    }
    log_data(st, buf, (size_t)r, 0);
    broadcast(st->type, buf, (size_t)r);
    return 1;
}

static int recv_fd(int sock) {
    char name[256];
    char ctl[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {name, sizeof name};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) <= 0) return -1;
    struct cmsghdr* c = CMSG_FIRSTHDR(&mh);
    if (!c || c->cmsg_type != SCM_RIGHTS) return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

static void write_exit_file(int code, int restarting) {
    char ts[64], body[200];
    rfc3339nano(ts, sizeof ts);
    int n =
        snprintf(body, sizeof body, "{\"exit_code\":%d,\"finished_at\":\"%s\",\"restarting\":%s}\n",
                 code, ts, restarting ? "true" : "false");
    int fd = open("exit.json.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return;
    write_all(fd, body, (size_t)n);
    fsync(fd);
    close(fd);
    rename("exit.json.tmp", "exit.json");
}

// ---- events ---------------------------------------------------------------------------

// One line of the journal in docker's shape (as engine/events.cpp writes it), one write.
static void emit_event(const char* action, int exit_code) {
    static char line[4096];
    char name[512], image[1024], code[32] = "";
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    size_t nn = strlen(M.name), ni = strlen(M.image);
    if (nn > 80) nn = 80;  // escaped: at most 6 bytes each
    if (ni > 160) ni = 160;
    name[json_escape(name, M.name, nn)] = 0;
    image[json_escape(image, M.image, ni)] = 0;
    if (exit_code != -1000) snprintf(code, sizeof code, "\"exitCode\":\"%d\",", exit_code);
    int n = snprintf(line, sizeof line,
                     "{\"status\":\"%s\",\"id\":\"%s\",\"from\":\"%s\",\"Type\":\"container\","
                     "\"Action\":\"%s\",\"Actor\":{\"ID\":\"%s\",\"Attributes\":{%s\"image\":"
                     "\"%s\",\"name\":\"%s\"}},\"scope\":\"local\",\"time\":%lld,"
                     "\"timeNano\":%lld}\n",
                     action, M.id, image, action, M.id, code, image, name, (long long)ts.tv_sec,
                     (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
    if (n <= 0 || (size_t)n >= sizeof line) return;
    int fd = open(M.events, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return;
    write_all(fd, line, (size_t)n);
    close(fd);
}

// ---- husk helpers -------------------------------------------------------------------

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// In a child: execs husk's argv with `a`, `b` appended (and the container's id).
static void exec_husk(const char* a, const char* b) {
    char* av[48];
    int n = 0;
    for (char** p = M.husk; *p && n < 40; ++p) av[n++] = *p;
    av[n++] = (char*)a;
    if (b) av[n++] = (char*)b;
    av[n++] = (char*)M.id;
    av[n] = NULL;
    execv(av[0], av);
    dprintf(STDERR_FILENO, "husk-monitor: exec %s: %s\n", av[0], strerror(errno));
    _exit(127);
}

static void child_signals(void) {
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
}

// `husk healthcheck run ID`: it runs the check and records the result (engine/health.h).
static void start_health_check(void) {
    pid_t p = fork();
    if (p != 0) {
        if (p > 0) M.health_pid = p;
        return;
    }
    child_signals();
    int null = open("/dev/null", O_RDWR);
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    syscall(SYS_close_range, 3U, ~0U, 0U);
    exec_husk("healthcheck", "run");
}

// `husk container-restart ID` with fd 3: its report ("ok PID" / "err MESSAGE"), 4, 5, 6:
// the container's stdout, stderr and stdin, 7: the console socket (tty). The new init's
// pid, or 0 when it did not start (the reason in our monitor.log).
static pid_t restart_container(void) {
    int report[2], out[2] = {-1, -1}, err[2] = {-1, -1}, in[2] = {-1, -1}, con[2] = {-1, -1};
    if (pipe2(report, O_CLOEXEC) != 0) return 0;
    if (M.tty) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con) != 0) return 0;
    } else if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
        return 0;
    }
    int want_in = M.in_fd >= 0 && !M.tty;
    if (want_in) {
        close(M.in_fd);
        M.in_fd = -1;
        if (pipe2(in, O_CLOEXEC) != 0) return 0;
    }
    pid_t p = fork();
    if (p == 0) {
        child_signals();
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        int fds[5] = {report[1], out[1], err[1], in[0], con[1]};
        // above 7 first, so that no dup2 below overwrites one still to be placed
        for (int i = 0; i < 5; ++i) fds[i] = fcntl(fds[i] >= 0 ? fds[i] : null, F_DUPFD, 8);
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        for (int i = 0; i < 5; ++i) dup2(fds[i], 3 + i);
        syscall(SYS_close_range, 8U, ~0U, 0U);
        exec_husk("container-restart", NULL);
    }
    close(report[1]);
    if (out[1] >= 0) close(out[1]);
    if (err[1] >= 0) close(err[1]);
    if (in[0] >= 0) close(in[0]);
    if (con[1] >= 0) close(con[1]);
    char buf[1024];
    size_t len = 0;
    while (p > 0 && len < sizeof buf - 1 && !memchr(buf, '\n', len)) {
        ssize_t n = read(report[0], buf + len, sizeof buf - 1 - len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        len += (size_t)n;
    }
    buf[len] = 0;
    close(report[0]);
    pid_t init = strncmp(buf, "ok ", 3) == 0 ? (pid_t)atoi(buf + 3) : 0;
    if (init <= 0 && len > 0) dprintf(STDERR_FILENO, "husk-monitor: restart: %s", buf);
    if (init > 0 && M.tty) {
        M.pty = recv_fd(con[0]);
        M.out.fd = M.in_fd = M.pty;
    } else if (init > 0) {
        M.out.fd = out[0];
        M.err.fd = err[0];
        M.in_fd = in[1];
        out[0] = err[0] = in[1] = -1;
    }
    int fds[4] = {out[0], err[0], in[1], con[0]};
    for (int i = 0; i < 4; ++i)
        if (fds[i] >= 0) close(fds[i]);
    if (p > 0) {  // it has exited (or will at once): its init is ours now
        int st;
        while (waitpid(p, &st, 0) < 0 && errno == EINTR) {
        }
    }
    return init;
}

// ---- one run of the container ---------------------------------------------------------

static void reap(pid_t init, int* exited, int* status) {
    int st;
    pid_t w;
    while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
        if (w == init) {
            *exited = 1;
            *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        } else if (w == M.health_pid) {
            M.health_pid = 0;
        }
    }
}

static void serve_clients(struct pollfd* p) {
    if (p[0].revents) accept_client();
    for (int i = 0; i < kMaxClients; ++i)
        if (p[1 + i].revents && M.clients[i].fd >= 0) client_read(&M.clients[i], 0);
}

// Whether ./health.json (engine/health.h, written by each check) still says "starting",
// or is not there yet: read in small pieces (no heap, and the monitor's few pages stay few).
static int health_starting(void) {
    static const char want[] = "\"Status\":\"starting\"";
    enum { kWant = sizeof want - 1 };
    int fd = open("health.json", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 1;
    char buf[256 + kWant];
    size_t kept = 0;
    int found = 0;
    for (;;) {
        ssize_t n = read(fd, buf + kept, sizeof buf - 1 - kept);
        if (n <= 0) break;
        size_t len = kept + (size_t)n;
        buf[len] = 0;
        if (strstr(buf, want)) {
            found = 1;
            break;
        }
        kept = len < kWant ? len : kWant;  // a match may straddle two reads
        memmove(buf, buf + len - kept, kept);
    }
    close(fd);
    return found;
}

// The time until the next check of a run that began at `started` (ms).
static long health_interval(long long started) {
    if (M.health_start_ms > 0 && now_ms() - started < M.health_period_ms && health_starting())
        return M.health_start_ms;
    return M.health_ms;
}

// The container's output logged and relayed, attach clients served, health checks run,
// until the init has exited and what it wrote is read. Its exit status.
static int watch_run(int sfd, pid_t init) {
    int status = -1, exited = 0;
    long long started = now_ms();
    long long next_check = M.health_ms > 0 ? started + health_interval(started) : -1;
    while (!exited || M.out.fd >= 0 || M.err.fd >= 0) {
        struct pollfd p[4 + kMaxClients];
        int np = 0;
        p[np++] = (struct pollfd){M.listen_fd, POLLIN, 0};
        for (int i = 0; i < kMaxClients; ++i) p[np++] = (struct pollfd){M.clients[i].fd, POLLIN, 0};
        p[np++] = (struct pollfd){sfd, POLLIN, 0};
        p[np++] = (struct pollfd){M.out.fd, POLLIN, 0};
        p[np++] = (struct pollfd){M.err.fd, POLLIN, 0};
        // once the init is gone, only what is already buffered is read: the pipes may
        // be held open by an escaped process, which must not keep us alive
        int timeout = -1;
        if (exited) {
            timeout = 0;
        } else if (next_check >= 0) {
            long long left = next_check - now_ms();
            timeout = left < 0 ? 0 : (int)left;
        }
        int r = poll(p, (nfds_t)np, timeout);
        if (r < 0 && errno != EINTR) die("poll");
        if (exited && r == 0) break;
        if (p[1 + kMaxClients].revents) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) > 0) {
            }
        }
        // every round: a SIGCHLD may have come before the signalfd existed
        reap(init, &exited, &status);
        if (!exited && next_check >= 0 && now_ms() >= next_check) {
            if (M.health_pid == 0) start_health_check();  // one at a time
            next_check = now_ms() + health_interval(started);
        }
        serve_clients(p);
        if (p[2 + kMaxClients].revents && M.out.fd >= 0) pump(&M.out);
        if (p[3 + kMaxClients].revents && M.err.fd >= 0) pump(&M.err);
    }
    log_data(&M.out, "", 0, 1);
    log_data(&M.err, "", 0, 1);
    if (M.out.fd >= 0) close(M.out.fd);
    if (M.err.fd >= 0 && M.err.fd != M.out.fd) close(M.err.fd);
    M.out.fd = M.err.fd = -1;
    if (M.pty >= 0) M.in_fd = -1;
    M.pty = -1;
    return status;
}

// The backoff before a restart: attach clients still served (a NO_RESTART frame ends it
// at once). 1 when the restart is still wanted when it is over.
static int backoff(int sfd, long delay_ms) {
    long long until = now_ms() + delay_ms;
    int exited = 0, status = 0;
    while (!M.no_restart) {
        long long left = until - now_ms();
        if (left <= 0) return 1;
        struct pollfd p[2 + kMaxClients];
        p[0] = (struct pollfd){M.listen_fd, POLLIN, 0};
        for (int i = 0; i < kMaxClients; ++i)
            p[1 + i] = (struct pollfd){M.clients[i].fd, POLLIN, 0};
        p[1 + kMaxClients] = (struct pollfd){sfd, POLLIN, 0};
        if (poll(p, 2 + kMaxClients, (int)left) < 0 && errno != EINTR) die("poll");
        if (p[1 + kMaxClients].revents) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) > 0) {
            }
        }
        reap(0, &exited, &status);  // health checks, escaped processes
        serve_clients(p);
    }
    return 0;
}

static int arg_fd(const char* v) {
    return v ? atoi(v) : -1;
}

enum { kArgs = 19 };  // DIR ... HEALTH_PERIOD_MS "--"

// husk-monitor DIR LOG MAX_SIZE MAX_FILE PID_FD OUT_FD ERR_FD IN_FD CONSOLE_FD LISTEN_FD
//              EVENTS ID NAME IMAGE RESTART HEALTH_MS HEALTH_START_MS HEALTH_PERIOD_MS
//              -- HUSK [ARG...]
int main(int argc, char** argv) {
    if (argc < kArgs + 2 || strcmp(argv[kArgs], "--") != 0 ||
        husk_restart_parse(argv[15], &M.policy) != 0) {
        dprintf(STDERR_FILENO,
                "usage: husk-monitor DIR LOG MAX_SIZE MAX_FILE PID_FD OUT_FD ERR_FD IN_FD "
                "CONSOLE_FD LISTEN_FD EVENTS ID NAME IMAGE RESTART HEALTH_MS HEALTH_START_MS "
                "HEALTH_PERIOD_MS -- HUSK...\n"
                "(started by husk run -d / husk start)\n");
        return 2;
    }
    if (chdir(argv[1]) != 0) die("chdir");
    M.log_path = argv[2];
    M.max_size = atoll(argv[3]);
    M.max_file = atoi(argv[4]) > 0 ? atoi(argv[4]) : 1;
    int pid_fd = arg_fd(argv[5]), console = arg_fd(argv[9]);
    M.out.fd = arg_fd(argv[6]);
    M.out.type = HUSK_ATTACH_STDOUT;
    M.err.fd = arg_fd(argv[7]);
    M.err.type = HUSK_ATTACH_STDERR;
    M.in_fd = arg_fd(argv[8]);
    M.pty = -1;
    M.held = -1;
    M.log_fd = -1;
    M.events = argv[11];
    M.id = argv[12];
    M.name = argv[13];
    M.image = argv[14];
    M.health_ms = atol(argv[16]);
    M.health_start_ms = atol(argv[17]);
    M.health_period_ms = atol(argv[18]);
    M.husk = argv + kArgs + 1;
    M.tty = console >= 0;
    for (int i = 0; i < kMaxClients; ++i) M.clients[i].fd = -1;

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) die("signalfd");
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);

    // The creating process writes the init's pid once the container is created; EOF: failed.
    char pidbuf[32] = {0};
    ssize_t n;
    do n = read(pid_fd, pidbuf, sizeof pidbuf - 1);
    while (n < 0 && errno == EINTR);
    close(pid_fd);
    pid_t init = n > 0 ? (pid_t)atoi(pidbuf) : 0;
    if (init <= 0) return 1;
    if (console >= 0) {
        M.pty = recv_fd(console);
        close(console);
        if (M.pty >= 0) {
            M.out.fd = M.pty;
            M.in_fd = M.pty;
        }
    }
    open_log(0);
    M.listen_fd = arg_fd(argv[10]);  // ./attach.sock, listening since before the create

    int status = -1, restarts = 0;
    long delay = 0;
    for (;;) {
        long long started = now_ms();
        status = watch_run(sfd, init);
        reread_policy();
        int again = husk_restart_wanted(&M.policy, status, restarts, M.no_restart);
        write_exit_file(status, again);
        emit_event("die", status);
        if (!again) break;
        delay = husk_restart_next_delay_ms(delay, (long)(now_ms() - started));
        if (!backoff(sfd, delay)) {
            write_exit_file(status, 0);
            break;
        }
        unlink("exit.json");
        init = restart_container();
        if (init <= 0) {
            write_exit_file(status, 0);
            break;
        }
        ++restarts;
        emit_event("restart", -1000);
    }
    char code[16];
    int cn = snprintf(code, sizeof code, "%d", status);
    broadcast(HUSK_ATTACH_EXIT, code, (size_t)cn);
    for (int i = 0; i < kMaxClients; ++i)
        if (M.clients[i].fd >= 0) drop_client(&M.clients[i]);
    close(M.listen_fd);
    unlink(HUSK_ATTACH_SOCKET);
    // The cleanup inherits monitor.lock only, not the container's stdio (an escaped
    // process may still hold the other ends).
    if (M.in_fd >= 0) close(M.in_fd);
    if (M.log_fd >= 0) close(M.log_fd);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    signal(SIGTERM, SIG_DFL);
    exec_husk("container-cleanup", NULL);
}
