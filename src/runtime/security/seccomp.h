// seccomp for the container process: linux.seccomp compiled with libseccomp
// into a raw BPF program in the parent (cached by the profile's hash), and
// installed in the child with one raw seccomp(2) call.
//
// Child-side order (what runtime/container must do between clone and execve):
//   without process.noNewPrivileges (docker's default): seccomp(2) needs
//   CAP_SYS_ADMIN, so install_seccomp() runs BEFORE the capabilities are
//   reduced; the profile must then allow what follows (prctl, setgroups,
//   setresgid, setresuid, capset, execve, ...; the default profile does):
//     install_seccomp -> [send listener fd] -> drop_bounding -> PR_SET_KEEPCAPS 1
//     -> setgroups/setresgid/setresuid -> PR_SET_KEEPCAPS 0 -> apply_capabilities -> execve
//   with process.noNewPrivileges: the filter is loaded last, right before execve:
//     drop_bounding -> KEEPCAPS 1 -> set ids -> KEEPCAPS 0 -> apply_capabilities
//     -> prctl(PR_SET_NO_NEW_PRIVS) -> install_seccomp -> [send listener fd] -> execve
//
// SCMP_ACT_NOTIFY: install_seccomp returns the listener fd. The child hands it to
// the parent over the sync socket (sys::send_fd) and waits; the parent, which knows the
// container's host pid and sees the host's mount namespace, sends it on to
// linux.seccomp.listenerPath with send_to_listener(). The child must not make a
// notified syscall before the listener has the fd (it would block forever).
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

#include "oci/spec.h"
#include "oci/state.h"

namespace husk::runtime::security {

struct SeccompProgram {
    std::vector<sock_filter> filter;  // the raw BPF program
    unsigned flags = 0;               // SECCOMP_FILTER_FLAG_*, incl. NEW_LISTENER when notify
    bool notify = false;              // some rule uses SCMP_ACT_NOTIFY
    std::string listener_path, listener_metadata;
};

// Compile with libseccomp. Unknown syscall names are skipped (debug log), as
// runc does; a bad action, architecture, operator, flag or argument index is an
// error naming the field:
//   linux.seccomp.syscalls[3].action: unknown action "SCMP_ACT_FOO"
SeccompProgram compile_seccomp(const oci::Seccomp& profile);

// As compile_seccomp, but the BPF is cached in `cache_dir` (created 0700) as
// <sha256>.bpf, keyed by the canonical profile JSON, the libseccomp version
// and the kernel release; written atomically (temp file + rename). A cache file
// not owned by us or writable by others is ignored. Cache write failures are
// logged, never fatal. An empty cache_dir means "compile, no cache".
SeccompProgram load_or_compile_seccomp(const oci::Seccomp& profile, const std::string& cache_dir);

// The hex sha256 that names the cache file of `profile`.
std::string seccomp_cache_key(const oci::Seccomp& profile);

// ---- child side: async-signal-safe, never throw ----------------------------

// seccomp(SECCOMP_SET_MODE_FILTER, prog.flags, &prog). Returns the listener fd
// (>= 0, notify) or 0, or -errno with *failed_step set to a static string.
int install_seccomp(const SeccompProgram& prog, const char** failed_step = nullptr) noexcept;

// ---- parent side -------------------------------------------------------------

// The runtime spec's "container process state" sent to the seccomp agent:
// {"ociVersion","fds":["seccompFd"],"pid","metadata","state":{...}}.
std::string container_process_state(const oci::State& state, const std::string& metadata);

// Connect to the unix socket `listener_path` and send `state_json` with
// `listener_fd` attached (SCM_RIGHTS), as runc does for linux.seccomp.listenerPath.
void send_to_listener(const std::string& listener_path, int listener_fd,
                      const std::string& state_json);

// ---- linux.seccomp JSON --------------------------------------------------------

// Parse a linux.seccomp object (JSON text, e.g. a profile file) with the oci
// module's validation; errors name the field ("linux.seccomp.syscalls[2].names: ...").
oci::Seccomp parse_seccomp_json(const std::string& json_text);
// The profile as config.json text ({"ociVersion":..,"linux":{"seccomp":..}});
// deterministic, so it is the hashed input of the cache key.
std::string dump_seccomp_json(const oci::Seccomp& profile);

}  // namespace husk::runtime::security
