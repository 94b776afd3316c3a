// sys::close_fds_except: what a child keeps between fork or clone and execve.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sys/syscalls.h"

namespace {

bool open_fd(int fd) {
    return ::fcntl(fd, F_GETFD) >= 0;
}

// Runs `body` in a child (it closes fds: not ours to lose) and returns its exit code.
template <typename F>
int in_child(F body) {
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(body());
    int st = 0;
    ::waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
}

}  // namespace

TEST(CloseFdsExcept, KeepsOnlyTheNamedFdsFromFirstUp) {
    int code = in_child([] {
        int fd[6];
        for (int& f : fd) f = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        // fd[0] is below `first`; fd[2] and fd[4] are kept, given out of order with a -1
        husk::sys::close_fds_except(static_cast<unsigned>(fd[1]), {fd[4], -1, fd[2]});
        if (!open_fd(fd[0])) return 1;
        if (open_fd(fd[1]) || open_fd(fd[3]) || open_fd(fd[5])) return 2;
        if (!open_fd(fd[2]) || !open_fd(fd[4])) return 3;
        if (!open_fd(0) || !open_fd(1) || !open_fd(2)) return 4;
        return 0;
    });
    EXPECT_EQ(code, 0) << "1: closed below first, 2: an unnamed fd left open, 3: a kept fd "
                          "closed, 4: stdio closed";
}

TEST(CloseFdsExcept, NothingKeptClosesEverythingFromFirst) {
    int code = in_child([] {
        int a = ::open("/dev/null", O_RDONLY);
        int b = ::dup(a);
        husk::sys::close_fds_except(3, {});
        return open_fd(a) || open_fd(b) ? 1 : 0;
    });
    EXPECT_EQ(code, 0);
}
