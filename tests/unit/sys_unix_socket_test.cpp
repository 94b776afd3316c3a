// sys::send_fd / sys::recv_fd: the fd passing the init uses for its pty master and its
// seccomp listener, and the runtime for linux.seccomp.listenerPath.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "sys/error.h"
#include "sys/fd.h"
#include "sys/unix_socket.h"

namespace {

struct Pair {
    husk::sys::UniqueFd a, b;
};

Pair socket_pair(int type) {
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv), 0);
    return {husk::sys::UniqueFd(sv[0]), husk::sys::UniqueFd(sv[1])};
}

}  // namespace

TEST(FdPassing, TheReceivedFdIsTheSentFileWithItsPayloadAndCloseOnExec) {
    Pair s = socket_pair(SOCK_STREAM);
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    husk::sys::UniqueFd r(p[0]), w(p[1]);
    ASSERT_EQ(husk::sys::send_fd(s.a.get(), w.get(), "console", 7), 0);
    std::string payload;
    husk::sys::UniqueFd got(husk::sys::recv_fd(s.b.get(), &payload));
    EXPECT_EQ(payload, "console");
    EXPECT_NE(::fcntl(got.get(), F_GETFD) & FD_CLOEXEC, 0);
    ASSERT_EQ(::write(got.get(), "x", 1), 1);  // the pipe's write end, through the new fd
    char c = 0;
    ASSERT_EQ(::read(r.get(), &c, 1), 1);
    EXPECT_EQ(c, 'x');
}

TEST(FdPassing, AnEmptyPayloadStillSendsOneByte) {
    Pair s = socket_pair(SOCK_SEQPACKET);
    husk::sys::UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    ASSERT_EQ(husk::sys::send_fd(s.a.get(), null.get(), nullptr, 0), 0);
    std::string payload;
    husk::sys::UniqueFd got(husk::sys::recv_fd(s.b.get(), &payload));
    EXPECT_TRUE(got);
    EXPECT_EQ(payload.size(), 1U);
}

TEST(FdPassing, AMessageWithoutAnFdIsAnError) {
    Pair s = socket_pair(SOCK_SEQPACKET);
    ASSERT_EQ(::send(s.a.get(), "x", 1, 0), 1);
    EXPECT_THROW(husk::sys::recv_fd(s.b.get()), husk::Error);
}

TEST(FdPassing, APeerThatClosedIsAnErrorNotAHang) {
    Pair s = socket_pair(SOCK_SEQPACKET);
    s.a.reset();
    try {
        husk::sys::recv_fd(s.b.get());
        FAIL() << "recv_fd returned";
    } catch (const husk::Error& e) {
        EXPECT_STREQ(e.what(), "recvmsg: peer closed without sending an fd");
    }
}

TEST(FdPassing, SendingOnAClosedPeerReturnsTheErrnoWithoutSigpipe) {
    Pair s = socket_pair(SOCK_STREAM);
    s.b.reset();
    husk::sys::UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    EXPECT_EQ(husk::sys::send_fd(s.a.get(), null.get(), "x", 1), -EPIPE);
}
