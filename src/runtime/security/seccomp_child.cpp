// The child side of seccomp: runs between clone and execve, so only raw syscalls on
// data prepared by the parent; no allocation, no exceptions. (Fd passing: sys/unix_socket.)
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "runtime/security/seccomp.h"

namespace husk::runtime::security {

// --- child side: runs between clone and execve ---

int install_seccomp(const SeccompProgram& prog, const char** failed_step) noexcept {
    sock_fprog fprog{};
    fprog.len = static_cast<unsigned short>(prog.filter.size());
    fprog.filter = const_cast<sock_filter*>(prog.filter.data());
    if (prog.filter.empty() || prog.filter.size() > 0xffff) {
        if (failed_step) *failed_step = "seccomp: empty or oversized program";
        return -EINVAL;
    }
    long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, prog.flags, &fprog);
    if (rc < 0) {
        int err = errno;
        if (failed_step) *failed_step = "seccomp(SECCOMP_SET_MODE_FILTER)";
        return -err;
    }
    // With NEW_LISTENER the return value is the listener fd; otherwise 0.
    return static_cast<int>(rc);
}

// --- end child side ---

}  // namespace husk::runtime::security
