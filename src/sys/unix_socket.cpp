#include "sys/unix_socket.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sys/error.h"

namespace husk::sys {
namespace {

// Room for the one fd a message carries.
struct FdControl {
    alignas(cmsghdr) char bytes[CMSG_SPACE(sizeof(int))] = {};
};

// A message of one buffer with room for one fd. No allocation (send_fd runs in the init).
msghdr one_fd_message(iovec& iov, FdControl& control) noexcept {
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.bytes;
    msg.msg_controllen = sizeof control.bytes;
    return msg;
}

}  // namespace

int send_fd(int sock, int fd, const void* data, size_t len) noexcept {
    char dummy = 0;
    iovec iov{};
    iov.iov_base = len ? const_cast<void*>(data) : &dummy;
    iov.iov_len = len ? len : 1;
    FdControl control;
    msghdr msg = one_fd_message(iov, control);
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

int recv_fd(int sock, std::string* data, int flags) {
    char buf[65536];
    iovec iov{buf, sizeof buf};
    FdControl control;
    msghdr msg = one_fd_message(iov, control);
    ssize_t n;
    do {
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | flags);
    } while (n < 0 && errno == EINTR);
    if (n < 0) throw_sys("recvmsg", "");
    int fd = -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
            c->cmsg_len == CMSG_LEN(sizeof(int)))
            std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
    }
    if (fd < 0)
        throw Error(n == 0 ? "recvmsg: peer closed without sending an fd"
                           : "recvmsg: no file descriptor in the message");
    if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
        close(fd);
        throw Error("recvmsg: message truncated");
    }
    if (data) data->assign(buf, static_cast<size_t>(n));
    return fd;
}

}  // namespace husk::sys
