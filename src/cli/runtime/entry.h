// husk-runtime's ELF entry point (entry.c): the CVE-2019-5736 re-exec from a read-only
// mount of the binary, done before the C library starts. C, callable from C++.
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

// The first operand of argv after the global flags, if it is one of husk-runtime's verbs
// or their aliases (a pointer into a static table); else NULL.
const char* husk_runtime_verb(int argc, char* const* argv);

// Does this verb make processes that are clones of us until their execve (create, run,
// exec)? Those run from a read-only mount of the binary.
int husk_runtime_verb_clones(const char* verb);

// What the entry point found out about sealing, for main() to decide nothing twice.
enum husk_runtime_seal_state {
    HUSK_SEAL_UNDECIDED = 0,  // the entry did not look (not run, or started by ld.so): main does
    HUSK_SEAL_NOT_NEEDED,     // the verb makes no clone of us (nothing to seal)
    HUSK_SEAL_SEALED,         // running from a read-only mount of the binary
    HUSK_SEAL_IMPOSSIBLE,     // it failed (errno in *err): e.g. EPERM without CAP_SYS_ADMIN
};

// The entry point's finding in this process; *err: the errno of HUSK_SEAL_IMPOSSIBLE.
enum husk_runtime_seal_state husk_runtime_seal_found(int* err);

#ifdef __cplusplus
}
#endif
