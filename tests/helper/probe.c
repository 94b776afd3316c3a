/*
 * husk-probe: a tiny static program that runs inside test containers and
 * prints what it sees as one JSON object, so tests assert on facts.
 *
 *   husk-probe                      the JSON report (see report())
 *   husk-probe exit N               exit with status N
 *   husk-probe sleep SECONDS        sleep (fractions allowed)
 *   husk-probe write PATH TEXT      {"ok":bool,"errno":N} after writing TEXT to PATH
 *   husk-probe mkdir PATH           {"ok":bool,"errno":N}
 *   husk-probe cat PATH             the file's bytes on stdout (exit 1 on error)
 *   husk-probe stat PATH            {"uid":U,"gid":G,"mode":M} of PATH (lstat; exit 1 on error)
 *   husk-probe fork-bomb N          {"forked":K,"errno":E}: K of N sleeping children made
 *   husk-probe alloc MB             allocate and touch MB MiB, then {"ok":true,"mb":MB}
 *   husk-probe ignore-term-sleep S  ignore SIGTERM, say {"ready":true,...}, sleep S
 *
 * Anything the kernel does not show (no /proc, say) is null, never a crash.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/keyctl.h>

extern char** environ;

/* ---- a minimal JSON writer on stdout ------------------------------------ */

static int need_comma[64];
static int depth;

static void sep(void) {
    if (need_comma[depth]) putchar(',');
    need_comma[depth] = 1;
}

static void j_raw_string(const char* s, size_t n) {
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
            case '"':
                fputs("\\\"", stdout);
                break;
            case '\\':
                fputs("\\\\", stdout);
                break;
            case '\n':
                fputs("\\n", stdout);
                break;
            case '\t':
                fputs("\\t", stdout);
                break;
            case '\r':
                fputs("\\r", stdout);
                break;
            default:
                if (c < 0x20 || c == 0x7f)
                    printf("\\u%04x", c);
                else
                    putchar(c);
        }
    }
    putchar('"');
}

/* Set after a key: the value that follows takes no comma. */
static int after_key;

static void j_key(const char* k) {
    sep();
    j_raw_string(k, strlen(k));
    putchar(':');
    after_key = 1;
}

/* Before a value: a comma unless it follows a key or opens its container. */
static void value_sep(void) {
    if (after_key)
        after_key = 0;
    else
        sep();
}

#define KEY(k) j_key(k)

static void j_str(const char* s) {
    value_sep();
    if (s)
        j_raw_string(s, strlen(s));
    else
        fputs("null", stdout);
}
static void j_strn(const char* s, size_t n) {
    value_sep();
    j_raw_string(s, n);
}
static void j_int(long long v) {
    value_sep();
    printf("%lld", v);
}
static void j_null(void) {
    value_sep();
    fputs("null", stdout);
}
static void j_bool(int v) {
    value_sep();
    fputs(v ? "true" : "false", stdout);
}
static void j_number_text(const char* text) { /* an already valid JSON number */
    value_sep();
    fputs(text, stdout);
}
static void j_open(char c) {
    value_sep();
    putchar(c);
    need_comma[++depth] = 0;
}
static void j_close(char c) {
    putchar(c);
    depth--;
}

static void kv_str(const char* k, const char* v) {
    KEY(k), j_str(v);
}
static void kv_int(const char* k, long long v) {
    KEY(k), j_int(v);
}

/* ---- helpers ------------------------------------------------------------- */

/* Read a whole small file into a malloc'd NUL-terminated buffer; NULL on error. */
static char* slurp(const char* path, size_t* len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    size_t cap = 4096, n = 0;
    char* buf = malloc(cap);
    for (;;) {
        if (n + 1 >= cap) buf = realloc(buf, cap *= 2);
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            free(buf);
            close(fd);
            return NULL;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

static void kv_file(const char* k, const char* path) {
    char* s = slurp(path, NULL);
    KEY(k), j_str(s);
    free(s);
}

static void kv_file_int(const char* k, const char* path) {
    char* s = slurp(path, NULL);
    KEY(k);
    if (s)
        j_int(strtoll(s, NULL, 10));
    else
        j_null();
    free(s);
}

/* The value after "Name:\t" in /proc/self/status, or NULL. */
static char* status_field(const char* status, const char* name) {
    size_t nl = strlen(name);
    for (const char* p = status; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, name, nl) == 0 && p[nl] == ':') {
            const char* v = p + nl + 1;
            while (*v == ' ' || *v == '\t') v++;
            size_t n = strcspn(v, "\n");
            return strndup(v, n);
        }
    }
    return NULL;
}

/* "0-3,7" from a cpu set. */
static void cpu_list(const cpu_set_t* set, char* out, size_t outlen) {
    size_t n = 0;
    out[0] = 0;
    for (int i = 0; i < CPU_SETSIZE; i++) {
        if (!CPU_ISSET(i, set)) continue;
        int j = i;
        while (j + 1 < CPU_SETSIZE && CPU_ISSET(j + 1, set)) j++;
        n += (size_t)snprintf(out + n, outlen - n, "%s%d", n ? "," : "", i);
        if (j > i) n += (size_t)snprintf(out + n, outlen - n, "-%d", j);
        if (n >= outlen) break;
        i = j;
    }
}

/* Undo the \040-style octal escapes of /proc/self/mountinfo, in place. */
static char* unescape(char* s) {
    char *r = s, *w = s;
    while (*r) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] && r[3]) {
            *w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
            r += 4;
        } else {
            *w++ = *r++;
        }
    }
    *w = 0;
    return s;
}

/* ---- the report ---------------------------------------------------------- */

static void report_ids(void) {
    kv_int("pid", getpid());
    kv_int("ppid", getppid());
    kv_int("uid", getuid());
    kv_int("gid", getgid());
    kv_int("euid", geteuid());
    kv_int("egid", getegid());
    gid_t groups[NGROUPS_MAX];
    int n = getgroups(NGROUPS_MAX, groups);
    KEY("groups");
    j_open('[');
    for (int i = 0; i < n; i++) j_int(groups[i]);
    j_close(']');
}

static void report_uts_and_cwd(char** argv) {
    struct utsname u;
    if (uname(&u) == 0) {
        kv_str("hostname", u.nodename);
        kv_str("domainname", u.domainname);
        kv_str("machine", u.machine);
    } else {
        kv_str("hostname", NULL);
        kv_str("domainname", NULL);
        kv_str("machine", NULL);
    }
    char cwd[PATH_MAX];
    kv_str("cwd", getcwd(cwd, sizeof cwd));
    mode_t m = umask(0);
    umask(m);
    kv_int("umask", m);
    KEY("args");
    j_open('[');
    for (char** a = argv; *a; a++) j_str(*a);
    j_close(']');
    KEY("env");
    j_open('[');
    for (char** e = environ; e && *e; e++) j_str(*e);
    j_close(']');
}

static void report_caps_fallback(void) {
    /* No /proc: ask the kernel directly. */
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    char buf[32];
    if (syscall(SYS_capget, &h, d) != 0) {
        kv_str("CapInh", NULL), kv_str("CapPrm", NULL), kv_str("CapEff", NULL);
    } else {
#define CAP64(f) (((unsigned long long)d[1].f << 32) | d[0].f)
        snprintf(buf, sizeof buf, "%016llx", CAP64(inheritable)), kv_str("CapInh", buf);
        snprintf(buf, sizeof buf, "%016llx", CAP64(permitted)), kv_str("CapPrm", buf);
        snprintf(buf, sizeof buf, "%016llx", CAP64(effective)), kv_str("CapEff", buf);
#undef CAP64
    }
    unsigned long long bnd = 0, amb = 0;
    for (int c = 0; c < 64; c++) {
        if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1) bnd |= 1ULL << c;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) == 1) amb |= 1ULL << c;
    }
    snprintf(buf, sizeof buf, "%016llx", bnd), kv_str("CapBnd", buf);
    snprintf(buf, sizeof buf, "%016llx", amb), kv_str("CapAmb", buf);
}

static void report_security(void) {
    kv_int("no_new_privs", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    kv_int("dumpable", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
    char* status = slurp("/proc/self/status", NULL);
    char* seccomp = status ? status_field(status, "Seccomp") : NULL;
    KEY("seccomp");
    if (seccomp)
        j_int(atoi(seccomp));
    else
        j_null();
    free(seccomp);
    char* filters = status ? status_field(status, "Seccomp_filters") : NULL;
    KEY("seccomp_filters");
    if (filters)
        j_int(atoi(filters));
    else
        j_null();
    free(filters);
    KEY("capabilities");
    j_open('{');
    if (status) {
        static const char* names[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"};
        for (int i = 0; i < 5; i++) {
            char* v = status_field(status, names[i]);
            kv_str(names[i], v);
            free(v);
        }
    } else {
        report_caps_fallback();
    }
    j_close('}');
    free(status);
}

static void report_rlimits(void) {
    static const struct {
        const char* name;
        int res;
    } lim[] = {
        {"RLIMIT_CPU", RLIMIT_CPU},           {"RLIMIT_FSIZE", RLIMIT_FSIZE},
        {"RLIMIT_DATA", RLIMIT_DATA},         {"RLIMIT_STACK", RLIMIT_STACK},
        {"RLIMIT_CORE", RLIMIT_CORE},         {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_NPROC", RLIMIT_NPROC},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
        {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},   {"RLIMIT_AS", RLIMIT_AS},
        {"RLIMIT_LOCKS", RLIMIT_LOCKS},       {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
        {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
        {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},     {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    };
    KEY("rlimits");
    j_open('{');
    for (size_t i = 0; i < sizeof lim / sizeof lim[0]; i++) {
        struct rlimit r;
        KEY(lim[i].name);
        if (getrlimit(lim[i].res, &r) != 0) {
            j_null();
            continue;
        }
        j_open('{');
        kv_int("soft", r.rlim_cur == RLIM_INFINITY ? -1 : (long long)r.rlim_cur);
        kv_int("hard", r.rlim_max == RLIM_INFINITY ? -1 : (long long)r.rlim_max);
        j_close('}');
    }
    j_close('}');
}

static void report_fds(void) {
    KEY("fds");
    DIR* d = opendir("/proc/self/fd");
    if (!d) {
        j_null();
        return;
    }
    j_open('[');
    struct dirent* e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        int fd = atoi(e->d_name);
        if (fd != dirfd(d)) j_int(fd);
    }
    closedir(d);
    j_close(']');
}

/* mountinfo: id parent maj:min root target opts [optional...] - fstype source superopts */
static void report_mounts(void) {
    KEY("mounts");
    char* info = slurp("/proc/self/mountinfo", NULL);
    if (!info) {
        j_null();
        return;
    }
    j_open('[');
    char* save = NULL;
    for (char* line = strtok_r(info, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char* f[64];
        int n = 0;
        char* s2 = NULL;
        for (char* t = strtok_r(line, " ", &s2); t && n < 64; t = strtok_r(NULL, " ", &s2))
            f[n++] = t;
        int dash = -1;
        for (int i = 6; i < n; i++)
            if (strcmp(f[i], "-") == 0) {
                dash = i;
                break;
            }
        if (n < 6 || dash < 0 || dash + 3 >= n + 1) continue;
        j_open('{');
        kv_str("target", unescape(f[4]));
        kv_str("fstype", dash + 1 < n ? f[dash + 1] : NULL);
        kv_str("source", dash + 2 < n ? unescape(f[dash + 2]) : NULL);
        kv_str("options", f[5]);
        kv_str("super_options", dash + 3 < n ? f[dash + 3] : NULL);
        kv_str("root", unescape(f[3]));
        KEY("propagation");
        j_open('[');
        for (int i = 6; i < dash; i++) j_str(f[i]);
        j_close(']');
        j_close('}');
    }
    j_close(']');
    free(info);
}

static void report_lines(const char* key, const char* path) {
    KEY(key);
    char* s = slurp(path, NULL);
    if (!s) {
        j_null();
        return;
    }
    j_open('[');
    char* save = NULL;
    for (char* l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) j_str(l);
    j_close(']');
    free(s);
}

static void report_namespaces(void) {
    KEY("namespaces");
    DIR* d = opendir("/proc/self/ns");
    if (!d) {
        j_null();
        return;
    }
    j_open('{');
    struct dirent* e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char link[PATH_MAX];
        ssize_t n = readlinkat(dirfd(d), e->d_name, link, sizeof link - 1);
        KEY(e->d_name);
        if (n < 0)
            j_null();
        else
            j_strn(link, (size_t)n);
    }
    closedir(d);
    j_close('}');
}

static void report_time(void) {
    char* up = slurp("/proc/uptime", NULL);
    KEY("uptime");
    if (up) {
        up[strcspn(up, " \n")] = 0;
        j_number_text(up);
    } else {
        j_null();
    }
    free(up);
    struct timespec ts;
    char buf[64];
    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(buf, sizeof buf, "%lld.%09ld", (long long)ts.tv_sec, ts.tv_nsec);
    KEY("monotonic"), j_number_text(buf);
    clock_gettime(CLOCK_BOOTTIME, &ts);
    snprintf(buf, sizeof buf, "%lld.%09ld", (long long)ts.tv_sec, ts.tv_nsec);
    KEY("boottime"), j_number_text(buf);
}

static void report_tty(void) {
    KEY("tty");
    j_open('{');
    KEY("stdin"), j_bool(isatty(0));
    KEY("stdout"), j_bool(isatty(1));
    KEY("stderr"), j_bool(isatty(2));
    int fd = isatty(0) ? 0 : isatty(1) ? 1 : -1;
    kv_str("name", fd >= 0 ? ttyname(fd) : NULL);
    struct winsize ws;
    if (fd >= 0 && ioctl(fd, TIOCGWINSZ, &ws) == 0) {
        kv_int("rows", ws.ws_row);
        kv_int("cols", ws.ws_col);
    } else {
        KEY("rows"), j_null();
        KEY("cols"), j_null();
    }
    j_close('}');
}

static void report_sched(void) {
    static const char* policies[] = {"SCHED_OTHER", "SCHED_FIFO", "SCHED_RR",      "SCHED_BATCH",
                                     "SCHED_ISO",   "SCHED_IDLE", "SCHED_DEADLINE"};
    KEY("sched");
    j_open('{');
    int p = sched_getscheduler(0);
    p &= ~SCHED_RESET_ON_FORK;
    kv_str("policy", p >= 0 && p < 7 ? policies[p] : NULL);
    struct sched_param sp;
    kv_int("priority", sched_getparam(0, &sp) == 0 ? sp.sched_priority : -1);
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, 0);
    KEY("nice");
    if (errno)
        j_null();
    else
        j_int(nice);
    j_close('}');

    /* ioprio_get(IOPRIO_WHO_PROCESS, self): class in bits 13+, data below. */
    long io = syscall(SYS_ioprio_get, 1, 0);
    KEY("ioprio");
    if (io < 0) {
        j_null();
    } else {
        static const char* classes[] = {"IOPRIO_CLASS_NONE", "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE",
                                        "IOPRIO_CLASS_IDLE"};
        int cls = (int)(io >> 13);
        j_open('{');
        kv_str("class", cls >= 0 && cls < 4 ? classes[cls] : NULL);
        kv_int("priority", io & 0x1fff);
        j_close('}');
    }

    cpu_set_t set;
    char list[4096];
    KEY("cpu_affinity");
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        cpu_list(&set, list, sizeof list);
        j_str(list);
    } else {
        j_null();
    }

    int mode = -1;
    KEY("mempolicy");
    if (syscall(SYS_get_mempolicy, &mode, NULL, 0, NULL, 0) == 0)
        j_int(mode);
    else
        j_null();
}

/* The session keyring: its serial and description ("keyring;uid;gid;perm;name"). */
static void report_keyring(void) {
    KEY("session_keyring");
    long id = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
    char desc[512];
    long n = id < 0 ? -1 : syscall(SYS_keyctl, KEYCTL_DESCRIBE, id, desc, sizeof desc);
    if (n < 0) {
        j_null();
        return;
    }
    desc[sizeof desc - 1] = 0;
    j_open('{');
    kv_int("serial", id);
    const char* name = strrchr(desc, ';');
    kv_str("name", name ? name + 1 : desc);
    j_close('}');
}

/* The network interfaces of our network namespace, by name. */
static void report_netdevs(void) {
    KEY("netdevs");
    struct if_nameindex* ifs = if_nameindex();
    if (!ifs) {
        j_null();
        return;
    }
    j_open('[');
    for (struct if_nameindex* i = ifs; i->if_index; i++) j_str(i->if_name);
    j_close(']');
    if_freenameindex(ifs);
}

static int report(char** argv) {
    j_open('{');
    report_ids();
    report_uts_and_cwd(argv);
    report_security();
    report_rlimits();
    report_fds();
    report_mounts();
    report_lines("cgroup", "/proc/self/cgroup");
    kv_file("uid_map", "/proc/self/uid_map");
    kv_file("gid_map", "/proc/self/gid_map");
    kv_file("setgroups", "/proc/self/setgroups");
    kv_file_int("oom_score_adj", "/proc/self/oom_score_adj");
    report_namespaces();
    kv_int("personality", personality(0xffffffff));
    report_time();
    report_tty();
    report_sched();
    report_keyring();
    report_netdevs();
    j_close('}');
    putchar('\n');
    return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- modes --------------------------------------------------------------- */

static void sleep_seconds(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int print_result(int ok, int err) {
    j_open('{');
    KEY("ok"), j_bool(ok);
    kv_int("errno", err);
    kv_str("error", err ? strerror(err) : NULL);
    j_close('}');
    putchar('\n');
    return ok ? 0 : 1;
}

static int mode_write(const char* path, const char* text) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return print_result(0, errno);
    size_t n = strlen(text);
    ssize_t w = write(fd, text, n);
    int err = w < 0 ? errno : (size_t)w != n ? EIO : 0;
    if (close(fd) != 0 && !err) err = errno;
    return print_result(err == 0, err);
}

static int mode_cat(const char* path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "husk-probe: open %s: %s\n", path, strerror(errno));
        return 1;
    }
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)n, stdout);
    int err = n < 0 ? errno : 0;
    close(fd);
    if (err) fprintf(stderr, "husk-probe: read %s: %s\n", path, strerror(err));
    return err ? 1 : 0;
}

static int mode_stat(const char* path) {
    struct stat st;
    if (lstat(path, &st) != 0) {
        fprintf(stderr, "husk-probe: stat %s: %s\n", path, strerror(errno));
        return 1;
    }
    j_open('{');
    kv_int("uid", st.st_uid);
    kv_int("gid", st.st_gid);
    kv_int("mode", st.st_mode);
    j_close('}');
    putchar('\n');
    return 0;
}

static int mode_fork_bomb(int n) {
    pid_t* kids = calloc((size_t)(n > 0 ? n : 1), sizeof *kids);
    int made = 0, first_err = 0;
    pid_t parent = getpid();
    for (int i = 0; i < n; i++) {
        pid_t p = fork();
        if (p == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
            if (getppid() != parent) _exit(0);
            for (;;) pause();
        }
        if (p < 0) {
            first_err = errno;
            break;
        }
        kids[made++] = p;
    }
    for (int i = 0; i < made; i++) kill(kids[i], SIGKILL);
    for (int i = 0; i < made; i++) waitpid(kids[i], NULL, 0);
    free(kids);
    j_open('{');
    kv_int("forked", made);
    kv_int("errno", first_err);
    kv_str("error", first_err ? strerror(first_err) : NULL);
    j_close('}');
    putchar('\n');
    return 0;
}

static int mode_alloc(long mb) {
    size_t size = (size_t)mb << 20;
    char* p = malloc(size);
    if (!p) return print_result(0, ENOMEM);
    long page = sysconf(_SC_PAGESIZE);
    for (size_t off = 0; off < size; off += (size_t)page) p[off] = 1;
    j_open('{');
    KEY("ok"), j_bool(1);
    kv_int("mb", mb);
    j_close('}');
    putchar('\n');
    free(p);
    return 0;
}

static int usage(void) {
    fputs(
        "usage: husk-probe [exit N | sleep S | write PATH TEXT | mkdir PATH | cat PATH |\n"
        "                   stat PATH | fork-bomb N | alloc MB |\n"
        "                   ignore-term-sleep S]\n",
        stderr);
    return 2;
}

int main(int argc, char** argv) {
    if (argc < 2) return report(argv);
    const char* m = argv[1];
    if (strcmp(m, "exit") == 0 && argc == 3) return atoi(argv[2]);
    if (strcmp(m, "sleep") == 0 && argc == 3) {
        sleep_seconds(atof(argv[2]));
        return 0;
    }
    if (strcmp(m, "write") == 0 && argc == 4) return mode_write(argv[2], argv[3]);
    if (strcmp(m, "mkdir") == 0 && argc == 3)
        return mkdir(argv[2], 0755) == 0 ? print_result(1, 0) : print_result(0, errno);
    if (strcmp(m, "cat") == 0 && argc == 3) return mode_cat(argv[2]);
    if (strcmp(m, "stat") == 0 && argc == 3) return mode_stat(argv[2]);
    if (strcmp(m, "fork-bomb") == 0 && argc == 3) return mode_fork_bomb(atoi(argv[2]));
    if (strcmp(m, "alloc") == 0 && argc == 3) return mode_alloc(atol(argv[2]));
    if (strcmp(m, "ignore-term-sleep") == 0 && argc == 3) {
        signal(SIGTERM, SIG_IGN);
        j_open('{');
        KEY("ready"), j_bool(1);
        kv_int("pid", getpid());
        j_close('}');
        putchar('\n');
        fflush(stdout);
        sleep_seconds(atof(argv[2]));
        return 0;
    }
    return usage();
}
