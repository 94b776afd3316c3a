// sched_getaffinity(2) as the kernel answers it, one line per case: the return value (the
// size copied) and the CPUs set, or the error. Run on the host and in a container to
// compare: a --cpus container sees fewer CPUs, the same sizes and the same errors.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char* what, unsigned len, void* mask) {
    long r = syscall(SYS_sched_getaffinity, 0, len, mask);
    if (r < 0) {
        printf("%s: %s\n", what, strerrorname_np(errno));
        return;
    }
    int cpus = 0;
    for (long i = 0; i < r; i++) cpus += __builtin_popcount(((unsigned char*)mask)[i]);
    printf("%s: size %ld cpus %d\n", what, r, cpus);
}

int main(void) {
    static unsigned char mask[8192];
    show("len 0", 0, mask);
    show("len 4", 4, mask);
    show("len 1023", 1023, mask);
    show("len 8196", 8196, mask);  // not a multiple of a long: EINVAL before any copy
    show("len 8", 8, mask);        // enough up to 64 CPUs (the kernel's EINVAL above)
    show("len 8192", sizeof mask, mask);
    show("bad address", sizeof mask, (void*)8);
    return 0;
}
