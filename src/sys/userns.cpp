#include "sys/userns.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/spawn.h"
#include "sys/syscalls.h"

namespace husk::sys {

UniqueFd userns_with_maps(const std::string& uid_map, const std::string& gid_map) {
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) throw_sys("pipe2");
    UniqueFd r(pipefd[0]), w(pipefd[1]);
    CloneArgs args;
    args.flags = CLONE_NEWUSER;
    args.exit_signal = SIGCHLD;
    pid_t pid = clone3(args);
    if (pid < 0) throw_sys("clone3 (a user namespace for an idmapped mount)");
    if (pid == 0) {          // hold the namespace until the parent has its fd: EOF on the pipe
        ::close(pipefd[1]);  // the parent's end: EOF once the parent closes (or dies)
        char c;
        (void)!::read(pipefd[0], &c, 1);
        ::_exit(0);
    }
    r.reset();
    // The owner of the namespace, killed and reaped on every way out.
    ChildGuard owner(pid);
    std::string base = fmt::format("/proc/{}/", pid);
    write_file(base + "uid_map", uid_map);
    write_file(base + "gid_map", gid_map);
    UniqueFd ns(::open((base + "ns/user").c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns) throw_sys("open", base + "ns/user");
    return ns;
}

}  // namespace husk::sys
