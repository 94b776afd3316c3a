// husk-monitor: the parent of one detached container (what conmon is to podman).
//
// `husk` forks, makes the child a subreaper in a session of its own, starts the
// container's creation from a grandchild and then execs this small static program
// in the child, so the container's init is reparented to us. We then
//   - hold the container's stdio (pipes, or the pty master received over a socket),
//   - write what it prints as docker json-file lines, rotating at --max-size,
//   - serve `husk attach` on ./attach.sock (bound by husk before the container is
//     created, so a client connecting early misses nothing; framed, see below),
//   - write ./exit.json (exit code, finish time) atomically when the init exits,
//   - and exec the cleanup command (husk's hidden `container-cleanup`) given after "--".
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
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "attach_protocol.h"

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

static void send_frame(struct client* c, int type, const char* p, size_t n) {
    unsigned char h[HUSK_ATTACH_HEADER_SIZE];
    husk_attach_header(h, type, n);
    struct iovec iov[2] = {{h, sizeof h}, {(void*)p, n}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
    size_t want = sizeof h + n;
    ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
    if (w != (ssize_t)want) drop_client(c);  // a client too slow for a blocking socket: gone
}

static void broadcast(int type, const char* p, size_t n) {
    for (int i = 0; i < kMaxClients; ++i)
        if (M.clients[i].fd >= 0) send_frame(&M.clients[i], type, p, n);
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
    }
}

static void client_read(struct client* c) {
    ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
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

static void accept_client(void) {
    int fd = accept4(M.listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) return;
    for (int i = 0; i < kMaxClients; ++i)
        if (M.clients[i].fd < 0) {
            M.clients[i].fd = fd;
            M.clients[i].len = 0;
            return;
        }
    close(fd);
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

static void write_exit_file(int code) {
    char ts[64], body[160];
    rfc3339nano(ts, sizeof ts);
    int n = snprintf(body, sizeof body, "{\"exit_code\":%d,\"finished_at\":\"%s\"}\n", code, ts);
    int fd = open("exit.json.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return;
    write_all(fd, body, (size_t)n);
    fsync(fd);
    close(fd);
    rename("exit.json.tmp", "exit.json");
}

static int arg_fd(const char* v) {
    return v ? atoi(v) : -1;
}

// husk-monitor DIR LOG MAX_SIZE MAX_FILE PID_FD OUT_FD ERR_FD IN_FD CONSOLE_FD LISTEN_FD
//              -- CLEANUP...
int main(int argc, char** argv) {
    if (argc < 13 || strcmp(argv[11], "--") != 0) {
        dprintf(STDERR_FILENO,
                "usage: husk-monitor DIR LOG MAX_SIZE MAX_FILE PID_FD OUT_FD ERR_FD IN_FD "
                "CONSOLE_FD LISTEN_FD -- CLEANUP...\n(started by husk run -d / husk start)\n");
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
    M.log_fd = -1;
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

    int status = -1, exited = 0;
    while (!exited || M.out.fd >= 0 || M.err.fd >= 0) {
        struct pollfd p[4 + kMaxClients];
        int np = 0;
        p[np++] = (struct pollfd){sfd, POLLIN, 0};
        p[np++] = (struct pollfd){M.listen_fd, POLLIN, 0};
        p[np++] = (struct pollfd){M.out.fd, POLLIN, 0};
        p[np++] = (struct pollfd){M.err.fd, POLLIN, 0};
        for (int i = 0; i < kMaxClients; ++i) p[np++] = (struct pollfd){M.clients[i].fd, POLLIN, 0};
        // once the init is gone, only what is already buffered is read: the pipes may
        // be held open by an escaped process, which must not keep us alive
        int r = poll(p, (nfds_t)np, exited ? 0 : -1);
        if (r < 0 && errno != EINTR) die("poll");
        if (exited && r == 0) break;
        if (p[0].revents) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) > 0) {
            }
        }
        {  // every round: a SIGCHLD may have come before the signalfd existed
            int st;
            pid_t w;
            while ((w = waitpid(-1, &st, WNOHANG)) > 0)
                if (w == init) {
                    exited = 1;
                    status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                }
        }
        if (p[1].revents) accept_client();
        if (p[2].revents && M.out.fd >= 0) pump(&M.out);
        if (p[3].revents && M.err.fd >= 0) pump(&M.err);
        for (int i = 0; i < kMaxClients; ++i)
            if (p[4 + i].revents && M.clients[i].fd >= 0) client_read(&M.clients[i]);
    }
    log_data(&M.out, "", 0, 1);
    log_data(&M.err, "", 0, 1);
    write_exit_file(status);
    char code[16];
    int cn = snprintf(code, sizeof code, "%d", status);
    broadcast(HUSK_ATTACH_EXIT, code, (size_t)cn);
    for (int i = 0; i < kMaxClients; ++i)
        if (M.clients[i].fd >= 0) drop_client(&M.clients[i]);
    close(M.listen_fd);
    unlink(HUSK_ATTACH_SOCKET);
    // The cleanup inherits monitor.lock only, not the container's stdio (an escaped
    // process may still hold the other ends).
    if (M.in_fd >= 0 && M.in_fd != M.out.fd) close(M.in_fd);
    if (M.out.fd >= 0) close(M.out.fd);
    if (M.err.fd >= 0) close(M.err.fd);
    if (M.log_fd >= 0) close(M.log_fd);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    signal(SIGTERM, SIG_DFL);
    execv(argv[12], argv + 12);
    die("exec cleanup");
}
