// process.terminal with a console socket of the test's own, as conmon and the
// containerd shim use it.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "../harness.h"

using namespace husk::test;
using nlohmann::json;

namespace {

int listen_unix(const std::string& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 4) != 0)
        return -1;
    return fd;
}

int recv_master(int listener) {
    int c = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return -1;
    char data[64];
    iovec iov{data, sizeof data};
    alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int))];
    msghdr m{};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = ctl;
    m.msg_controllen = sizeof ctl;
    int fd = -1;
    if (::recvmsg(c, &m, MSG_CMSG_CLOEXEC) > 0)
        for (cmsghdr* h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h))
            if (h->cmsg_type == SCM_RIGHTS) std::memcpy(&fd, CMSG_DATA(h), sizeof fd);
    ::close(c);
    return fd;
}

// Read from the pty until `want` appears or 10 s pass.
std::string read_until(int fd, const std::string& want) {
    std::string out;
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (out.find(want) == std::string::npos && std::chrono::steady_clock::now() < end) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 200) <= 0) continue;
        char buf[1024];
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

}  // namespace

TEST(Terminal, ShellThroughTheConsoleSocket) {
    Bundle b("tty");
    b.config["process"]["terminal"] = true;
    b.config["process"]["consoleSize"] = {{"height", 33}, {"width", 99}};
    b.config["process"]["args"] = {"/bin/sh"};
    b.config["process"]["env"] = {"PATH=/bin", "PS1=husk$ "};
    b.save();
    std::string sock = b.dir() + "/console.sock";
    int listener = listen_unix(sock);
    ASSERT_GE(listener, 0);
    std::string id = b.id();
    auto c = b.runtime({"create", "--bundle", b.dir(), "--console-socket", sock, id});
    ASSERT_EQ(c.status, 0) << c.err;
    int master = recv_master(listener);
    ::close(listener);
    ASSERT_GE(master, 0) << "no pty master received";
    ASSERT_EQ(b.runtime({"start", id}).status, 0);
    EXPECT_NE(read_until(master, "husk$ ").find("husk$ "), std::string::npos);
    std::string cmd = "stty size; tty; readlink /proc/self/fd/0; echo $((6*7))\n";
    ASSERT_EQ(::write(master, cmd.data(), cmd.size()), static_cast<ssize_t>(cmd.size()));
    std::string out = read_until(master, "42");
    EXPECT_NE(out.find("33 99"), std::string::npos) << out;
    EXPECT_NE(out.find("/dev/pts/0"), std::string::npos) << out;
    EXPECT_NE(out.find("42"), std::string::npos) << out;
    std::string bye = "exit 3\n";
    ASSERT_EQ(::write(master, bye.data(), bye.size()), static_cast<ssize_t>(bye.size()));
    read_until(master, "never");  // until the container side closes
    ::close(master);
    for (int i = 0; i < 100; ++i) {
        auto st = json::parse(b.runtime({"state", id}).out);
        if (st["status"] == "stopped") break;
        usleep(20000);
    }
    EXPECT_EQ(json::parse(b.runtime({"state", id}).out)["status"], "stopped");
    EXPECT_EQ(b.runtime({"delete", id}).status, 0);
}

TEST(Terminal, ConsoleIsThePty) {
    Bundle b("tty-console");
    b.config["process"]["terminal"] = true;
    b.config["process"]["args"] = {"/bin/sh", "-c",
                                   "stat -c '%t:%T' /dev/console; readlink /proc/self/fd/1"};
    b.save();
    std::string sock = b.dir() + "/console.sock";
    int listener = listen_unix(sock);
    std::string id = b.id();
    ASSERT_EQ(b.runtime({"create", "--bundle", b.dir(), "--console-socket", sock, id}).status, 0);
    int master = recv_master(listener);
    ::close(listener);
    ASSERT_GE(master, 0);
    ASSERT_EQ(b.runtime({"start", id}).status, 0);
    std::string out = read_until(master, "/dev/pts/0");
    // devpts major 136 = 0x88
    EXPECT_NE(out.find("88:0"), std::string::npos) << out;
    ::close(master);
    b.runtime({"delete", "--force", id});
}

TEST(Terminal, TerminalWithoutConsoleSocketIsAnError) {
    Bundle b("tty-nosock");
    b.config["process"]["terminal"] = true;
    b.save();
    std::string id = b.id();
    auto r = b.runtime({"create", "--bundle", b.dir(), id});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("console-socket"), std::string::npos) << r.err;
    EXPECT_NE(::access((b.state_root() + "/" + id).c_str(), F_OK), 0);
}
