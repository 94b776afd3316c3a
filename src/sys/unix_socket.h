// Unix sockets: passing a file descriptor (SCM_RIGHTS) with a payload, as the init
// does with its pty master (console socket) and its seccomp listener (sync socket),
// and the parent with the listener to linux.seccomp.listenerPath.
#pragma once

#include <cstddef>
#include <string>

namespace husk::sys {

// sendmsg(2) `len` bytes of `data` (at least 1 byte is sent) with `fd` attached
// (SCM_RIGHTS) on the connected unix socket `sock`. Returns 0 or -errno.
// Async-signal-safe: no allocation, no throw (the init calls it between clone and execve).
int send_fd(int sock, int fd, const void* data, size_t len) noexcept;

// Receive one fd sent with send_fd, close-on-exec (the payload, up to 64 KiB, is
// returned in *data when not null). Throws on error or when no fd came with the message.
// `flags` are recvmsg(2)'s: MSG_PEEK leaves a datagram queued (its fd is still received).
int recv_fd(int sock, std::string* data = nullptr, int flags = 0);

}  // namespace husk::sys
