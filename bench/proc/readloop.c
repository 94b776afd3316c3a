// The reader of bench/proc, run inside the containers (static, no libraries).
//   readloop N FILE...        for each FILE: N times open+read to EOF+close; prints
//                             "FILE median_ns mean_ns failures"
//   readloop -t SECONDS FILE... read all FILEs in a loop for SECONDS; prints "reads failures"
//   readloop -k ROUNDS MS FILE... read all FILEs ROUNDS times, MS milliseconds apart (a
//                             monitoring agent's poll: the same work for every server);
//                             prints "reads failures"
//   readloop -s N             N sysinfo(2), then N sched_getaffinity(2) calls; prints
//                             "CALL median_ns mean_ns failures" for each
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int read_once(const char* path) {
    static char buf[1 << 16];
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
    }
    close(fd);
    return n < 0 ? -1 : 0;
}

static int cmp(const void* a, const void* b) {
    long long x = *(const long long*)a, y = *(const long long*)b;
    return x < y ? -1 : x > y;
}

static int call_once(int which) {
    if (which == 0) {
        struct sysinfo si;
        return sysinfo(&si);
    }
    static unsigned char mask[1024];
    return syscall(SYS_sched_getaffinity, 0, sizeof mask, mask) < 0 ? -1 : 0;
}

static void time_calls(int n, long long* t) {
    static const char* names[] = {"sysinfo", "sched_getaffinity"};
    for (int which = 0; which < 2; ++which) {
        int fails = 0;
        long long start = now_ns();
        for (int i = 0; i < n; ++i) {
            long long a = now_ns();
            fails += call_once(which) != 0;
            t[i] = now_ns() - a;
        }
        long long total = now_ns() - start;
        qsort(t, (size_t)n, sizeof *t, cmp);
        printf("%s %lld %lld %d\n", names[which], t[n / 2], total / n, fails);
    }
}

int main(int argc, char** argv) {
    if (argc == 3 && strcmp(argv[1], "-s") == 0) {
        int n = atoi(argv[2]);
        if (n <= 0) return 2;
        long long* t = calloc((size_t)n, sizeof *t);
        time_calls(n, t);
        free(t);
        return 0;
    }
    if (argc >= 4 && strcmp(argv[1], "-t") == 0) {
        long long end = now_ns() + atoll(argv[2]) * 1000000000LL, reads = 0, fails = 0;
        while (now_ns() < end)
            for (int i = 3; i < argc; ++i, ++reads) fails += read_once(argv[i]) != 0;
        printf("%lld %lld\n", reads, fails);
        return 0;
    }
    if (argc >= 5 && strcmp(argv[1], "-k") == 0) {
        long long rounds = atoll(argv[2]), pause_ms = atoll(argv[3]), reads = 0, fails = 0;
        struct timespec pause = {pause_ms / 1000, (pause_ms % 1000) * 1000000L};
        for (long long r = 0; r < rounds; ++r) {
            if (r > 0 && pause_ms > 0) nanosleep(&pause, NULL);
            for (int i = 4; i < argc; ++i, ++reads) fails += read_once(argv[i]) != 0;
        }
        printf("%lld %lld\n", reads, fails);
        return 0;
    }
    if (argc < 3) {
        fprintf(stderr,
                "usage: readloop N FILE... | readloop -t SECONDS FILE... | "
                "readloop -k ROUNDS MS FILE... | readloop -s N\n");
        return 2;
    }
    int n = atoi(argv[1]);
    long long* t = calloc((size_t)n, sizeof *t);
    for (int f = 2; f < argc; ++f) {
        int fails = 0;
        long long total = 0;
        for (int i = 0; i < n; ++i) {
            long long a = now_ns();
            fails += read_once(argv[f]) != 0;
            t[i] = now_ns() - a;
            total += t[i];
        }
        qsort(t, (size_t)n, sizeof *t, cmp);
        printf("%s %lld %lld %d\n", argv[f], t[n / 2], total / n, fails);
    }
    free(t);
    return 0;
}
