// husk-runtime's entry point: seal the binary before the C library starts.
//
// create, run and exec make processes that are clones of husk-runtime until their execve;
// they run from a read-only detached bind mount of the binary (CVE-2019-5736 class:
// sys/self_exe.h). Re-executing from main() cost a whole start of the C library and the
// C++ runtime first (the static-pie's self-relocation, its page faults, locale and
// iostream set-up): about 165 k instructions and 60 page faults thrown away. Here the
// kernel's argv and envp are handed straight to execveat before any of that runs.
//
// This code runs before the static-pie relocates itself and before TLS exists: it calls
// no C library function (not even memcpy: -ffreestanding), reads no relocated data, uses
// no stack protector (CMakeLists.txt), and its loops stay loops. What it found (sealed, not
// needed, or impossible and why) is kept for main() (husk_runtime_seal_found), which tries
// itself only when the entry point could not look (started by ld.so, another architecture):
// one attempt per process.
#define _GNU_SOURCE  // NOLINT(bugprone-reserved-identifier): glibc's own switch
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <linux/mount.h>
#include <stddef.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include "cli/runtime/entry.h"
#include "cli/runtime/global_options.h"

#ifndef ST_RDONLY
#define ST_RDONLY 1
#endif

static int same(const char* a, const char* b) {
    while (*a && *a == *b) {
        ++a;
        ++b;
    }
    return *a == *b;
}

static size_t husk_strlen(const char* s) {
    size_t n = 0;
    while (s[n]) {
        ++n;
        __asm__("" : "+r"(n));  // no loop idiom the compiler could turn into a strlen call
    }
    return n;
}

// The names as one string each (NUL-separated, an empty name ends them): an array of
// pointers would need the relocation that has not happened yet when the entry runs.
static const char kVerbs[] =
    "create\0run\0start\0delete\0rm\0kill\0state\0list\0ls\0ps\0spec\0features\0pause\0"
    "resume\0update\0events\0exec\0";
#define VALUED_NAME(id, name) name "\0"
#define NO_NAME(id, name)
static const char kValued[] = HUSK_RUNTIME_GLOBAL_OPTIONS(VALUED_NAME, NO_NAME);

static const char* find(const char* names, const char* a) {
    for (const char* n = names; *n; n += husk_strlen(n) + 1)
        if (same(n, a)) return n;
    return NULL;
}

const char* husk_runtime_verb(int argc, char* const* argv) {
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        if (a[0] == '-') {
            if (find(kValued, a)) ++i;
            continue;
        }
        return find(kVerbs, a);
    }
    return NULL;
}

int husk_runtime_verb_clones(const char* verb) {
    return verb && (same(verb, "create") || same(verb, "run") || same(verb, "exec"));
}

// What husk_runtime_seal found, for main(): a static in .bss (zeroed by the kernel, reached
// PC-relative, so written before the relocation without one) that the C library leaves be.
static int seal_found = HUSK_SEAL_UNDECIDED;
static int seal_errno = 0;

enum husk_runtime_seal_state husk_runtime_seal_found(int* err) {
    *err = seal_errno;
    return (enum husk_runtime_seal_state)seal_found;
}

#if defined(__x86_64__) || defined(__aarch64__)

// The seal cannot be made here: main() and create's check try no more (-ret: the errno).
static void impossible(long ret) {
    seal_found = HUSK_SEAL_IMPOSSIBLE;
    seal_errno = (int)-ret;
}

static long sys6(long nr, long a, long b, long c, long d, long e, long f) {
#if defined(__x86_64__)
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
#else
    register long x8 __asm__("x8") = nr;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc 0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory");
    return x0;
#endif
}

// The auxiliary vector after the environment.
static const long* auxv_of(char** envp) {
    char** p = envp;
    while (*p) ++p;
    return (const long*)(p + 1);
}

// A dynamic build started as `ld.so ./husk-runtime ...`: the kernel ran the loader as the
// program (no interpreter base, AT_BASE 0), while our program headers name one. Then
// /proc/self/exe is the loader, and re-executing it with our argv would run no husk.
static int started_by_the_loader(char** envp) {
    const long* aux = auxv_of(envp);
    long base = 0, phdr = 0, phnum = 0;
    for (; aux[0] != AT_NULL; aux += 2) {
        if (aux[0] == AT_BASE) base = aux[1];
        if (aux[0] == AT_PHDR) phdr = aux[1];
        if (aux[0] == AT_PHNUM) phnum = aux[1];
    }
    if (base != 0 || phdr == 0) return 0;
    const ElfW(Phdr)* ph = (const ElfW(Phdr)*)phdr;  // NOLINT(performance-no-int-to-ptr): auxv
    for (long i = 0; i < phnum; ++i)
        if (ph[i].p_type == PT_INTERP) return 1;
    return 0;
}

// The pages of the writable segments are all written early on: the static-pie relocates
// its RELRO part (vtables, typeinfo, .init_array, the GOT: 13 pages) before main, and the
// C library and a run use every page of .data and .bss (the 64 KiB hook buffer is mapped
// when needed, not in .bss). Each is a fault of its own, copy-on-write for the file-backed
// ones, and a fault costs 10-30 us on the kind of VM the bench runs on. One
// madvise(MADV_POPULATE_WRITE) per segment makes the same pages in one call (~half the
// cost per page). Kernels before 5.14 refuse it (EINVAL) and a dynamic build (relocated by
// ld.so before this entry) skips it: the faults happen as before. Same pages, same content.
static void prefault_writable(char** envp) {
    long phdr = 0, phnum = 0;
    for (const long* aux = auxv_of(envp); aux[0] != AT_NULL; aux += 2) {
        if (aux[0] == AT_PHDR) phdr = aux[1];
        if (aux[0] == AT_PHNUM) phnum = aux[1];
    }
    if (phdr == 0) return;
    const ElfW(Phdr)* ph = (const ElfW(Phdr)*)phdr;  // NOLINT(performance-no-int-to-ptr): auxv
    long base = -1;
    for (long i = 0; i < phnum; ++i) {
        if (ph[i].p_type == PT_INTERP) return;
        if (ph[i].p_type == PT_PHDR) base = phdr - (long)ph[i].p_vaddr;
    }
    if (base < 0) return;
    const long page = 4096;  // the smallest page: a larger one is covered all the same
    for (long i = 0; i < phnum; ++i) {
        if (ph[i].p_type != PT_LOAD || !(ph[i].p_flags & PF_W) || ph[i].p_memsz == 0) continue;
        long start = (base + (long)ph[i].p_vaddr) & -page;
        long end = (base + (long)ph[i].p_vaddr + (long)ph[i].p_memsz + page - 1) & -page;
        sys6(SYS_madvise, start, end - start, 23 /* MADV_POPULATE_WRITE */, 0, 0, 0);
    }
}

// The re-exec (husk_runtime_seal's): returns when this process goes on as it is.
static void seal(long* sp) {
    int argc = (int)sp[0];
    char** argv = (char**)(sp + 1);
    char** envp = argv + argc + 1;
    if (!husk_runtime_verb_clones(husk_runtime_verb(argc, argv))) {
        seal_found = HUSK_SEAL_NOT_NEEDED;
        return;
    }
    if (started_by_the_loader(envp)) return;  // /proc/self/exe is ld.so: main() re-execs
    // statfs follows the magic link to the binary's own mount, as fstatfs of an O_PATH
    // open of it would, in one call instead of three (open, fstatfs, close): both this
    // process and the re-executed one look.
    struct statfs sf;
    long r = sys6(SYS_statfs, (long)"/proc/self/exe", (long)&sf, 0, 0, 0, 0);
    if (r < 0) {
        impossible(r);
        return;
    }
    if (sf.f_flags & ST_RDONLY) {
        seal_found = HUSK_SEAL_SEALED;
        return;
    }
    long tree = sys6(SYS_open_tree, AT_FDCWD, (long)"/proc/self/exe",
                     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC, 0, 0, 0);
    if (tree < 0) {
        impossible(tree);
        return;
    }
    struct mount_attr attr;
    attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    attr.attr_clr = 0;
    attr.propagation = 0;
    attr.userns_fd = 0;
    r = sys6(SYS_mount_setattr, tree, (long)"", AT_EMPTY_PATH, (long)&attr, sizeof attr, 0);
    if (r == 0) r = sys6(SYS_execveat, tree, (long)"", (long)argv, (long)envp, AT_EMPTY_PATH, 0);
    sys6(SYS_close, tree, 0, 0, 0, 0, 0);
    impossible(r);
}

// Called by the entry stub with the initial stack: argc, argv[], NULL, envp[], NULL, auxv.
// Returns to let the C library start as usual; a successful re-exec does not return.
void husk_runtime_seal(long* sp) {
    seal(sp);
    prefault_writable((char**)(sp + 1) + (int)sp[0] + 1);
}

// The ELF entry point (-Wl,-e,husk_runtime_entry): calls husk_runtime_seal on an aligned
// stack, then enters the C library's _start with every register as the kernel left it.
#if defined(__x86_64__)
__asm__(
    ".text\n"
    ".globl husk_runtime_entry\n"
    ".type husk_runtime_entry,@function\n"
    "husk_runtime_entry:\n"
    "  mov %rsp, %rbx\n"
    "  mov %rdx, %r12\n"
    "  mov %rsp, %rdi\n"
    "  and $-16, %rsp\n"
    "  call husk_runtime_seal\n"
    "  mov %rbx, %rsp\n"
    "  mov %r12, %rdx\n"
    "  xor %ebx, %ebx\n"
    "  xor %r12d, %r12d\n"
    "  jmp _start\n"
    ".size husk_runtime_entry, .-husk_runtime_entry\n");
#else
__asm__(
    ".text\n"
    ".globl husk_runtime_entry\n"
    ".type husk_runtime_entry,%function\n"
    "husk_runtime_entry:\n"
    "  mov x19, sp\n"
    "  mov x20, x0\n"
    "  mov x0, sp\n"
    "  bl husk_runtime_seal\n"
    "  mov sp, x19\n"
    "  mov x0, x20\n"
    "  mov x19, xzr\n"
    "  mov x20, xzr\n"
    "  mov x29, xzr\n"
    "  mov x30, xzr\n"
    "  b _start\n"
    ".size husk_runtime_entry, .-husk_runtime_entry\n");
#endif

#endif
