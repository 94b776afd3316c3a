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

#ifdef __cplusplus
}
#endif
