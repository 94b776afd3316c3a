// The child side of seccomp: runs between clone and execve, so only raw
// syscalls on data prepared by the parent; no allocation, no exceptions.
#include <linux/seccomp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "runtime/security/seccomp.h"

namespace husk::runtime::security {

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

int send_fd(int sock, int fd, const void* data, size_t len) noexcept {
    char dummy = 0;
    iovec iov{};
    iov.iov_base = len ? const_cast<void*>(data) : &dummy;
    iov.iov_len = len ? len : 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    for (;;) {
        ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
        if (n >= 0) return static_cast<size_t>(n) == iov.iov_len ? 0 : -EMSGSIZE;
        if (errno != EINTR) return -errno;
    }
}

}  // namespace husk::runtime::security
