#include "runtime/init_clone.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <optional>

#include "runtime/init.h"
#include "sys/error.h"
#include "sys/fd.h"

namespace husk::runtime {
namespace {

using sys::UniqueFd;

// While alive, processes we create are born in the PID namespace `fd` (setns of a PID
// namespace changes our children's, never our own); our children's is ours again after.
// The hooks we run later stay in the host's.
class PidNamespaceForChildren {
  public:
    PidNamespaceForChildren(int fd, const std::string& path)
        : own_(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC)) {
        if (!own_) throw_sys("open", "/proc/self/ns/pid");
        if (::setns(fd, CLONE_NEWPID) != 0) throw_sys("join PID namespace", path);
    }
    ~PidNamespaceForChildren() { ::setns(own_.get(), CLONE_NEWPID); }
    PidNamespaceForChildren(const PidNamespaceForChildren&) = delete;
    PidNamespaceForChildren& operator=(const PidNamespaceForChildren&) = delete;

  private:
    UniqueFd own_;
};

// --- child side: runs between clone and execve ---
[[noreturn]] void start_init(const Plan& plan, int parent_sock) noexcept {
    ::close(parent_sock);
    init_main(plan);
}

// The helper: enter the joined user namespace, clone the init from there, send its pid
// (or -errno and the failed step) over `result_fd` and exit.
[[noreturn]] void helper_main(sys::CloneArgs args, const Plan& plan, int parent_sock,
                              int result_fd) noexcept {
    int32_t result[2] = {0, 0};  // {pid or -errno, failed step: 1 setns, 2 clone3}
    // Inside the joined namespace its root holds CAP_SYS_PTRACE over us: not dumpable
    // first, or a process of the pod could take over a helper holding the host's fds.
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (::setns(plan.user_join_fd, CLONE_NEWUSER) != 0) {
        result[0] = -errno;
        result[1] = 1;
    } else {
        args.flags |= CLONE_PARENT;
        args.exit_signal = 0;  // with CLONE_PARENT the init inherits ours (SIGCHLD)
        pid_t pid = sys::clone3(args);
        if (pid == 0) start_init(plan, parent_sock);
        result[0] = pid < 0 ? -errno : pid;
        result[1] = pid < 0 ? 2 : 0;
    }
    (void)!::write(result_fd, result, sizeof result);
    ::_exit(0);
}
// --- end child side ---

// Joining a user namespace by path takes a second process: we must not enter it
// ourselves (we would lose the host's privileges for the rest of create), and entering
// it after the clone would leave the init's new namespaces (its PID namespace above all,
// which then could not mount its /proc) owned by the host's. So a helper enters it and
// clones the init with CLONE_PARENT: the init is still our child, and every namespace it
// is born with belongs to the joined user namespace, as with runc's nsexec. The helper
// sends the init's pid (or -errno and the failed step) over a pipe and exits.
pid_t clone_in_joined_user_ns(sys::CloneArgs args, const Plan& plan, int parent_sock) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw_sys("pipe2");
    UniqueFd from_helper(fds[0]), to_parent(fds[1]);
    sys::CloneArgs helper_args;
    helper_args.exit_signal = SIGCHLD;
    pid_t helper = sys::clone3(helper_args);
    if (helper < 0) throw_sys("clone3");
    if (helper == 0) helper_main(args, plan, parent_sock, fds[1]);
    to_parent.reset();
    int32_t result[2] = {0, 0};
    ssize_t n;
    do {
        n = ::read(from_helper.get(), result, sizeof result);
    } while (n < 0 && errno == EINTR);
    ::waitpid(helper, nullptr, 0);
    if (n != static_cast<ssize_t>(sizeof result))
        throw Error("the process joining the user namespace died before cloning the init");
    if (result[1] == 1) throw_sys("join user namespace", plan.user_join_path, -result[0]);
    if (result[1] == 2) throw_sys("clone3 in the joined user namespace", "", -result[0]);
    return result[0];
}

}  // namespace

pid_t clone_init(const sys::CloneArgs& args, const Plan& plan, int parent_sock) {
    std::optional<PidNamespaceForChildren> pidns;
    if (plan.pid_join_fd >= 0) pidns.emplace(plan.pid_join_fd, plan.pid_join_path);
    if (plan.user_join_fd >= 0) return clone_in_joined_user_ns(args, plan, parent_sock);
    sys::CloneArgs a = args;
    pid_t pid = sys::clone3(a);
    if (pid < 0) throw_sys("clone3");
    if (pid == 0) start_init(plan, parent_sock);
    return pid;
}

}  // namespace husk::runtime
