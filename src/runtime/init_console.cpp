// The init's terminal: a pty allocated inside the container's own devpts, the
// master sent to the engine over the console socket, the slave made stdio, the
// controlling terminal and /dev/console.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "runtime/init.h"
#include "runtime/security/seccomp.h"
#include "sys/fd.h"
#include "sys/safe_path.h"

namespace husk::runtime {
namespace {

using sys::UniqueFd;

// /dev/console inside the root: an empty regular file or a character device we made.
// A symlink (or anything else) planted there is refused, never followed.
int console_target(const Plan& p, int rootfd) noexcept {
    int fd = sys::open_in_root(rootfd, "/dev/console", O_PATH | O_NOFOLLOW);
    if (fd == -ENOENT) {
        char name[NAME_MAX + 1];
        int parent = sys::parent_in_root(rootfd, "/dev/console", name, sizeof name, true, 0755);
        if (parent < 0) init_fail(p, "open", "/dev", -parent);
        UniqueFd guard(parent);
        int f = ::openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (f < 0) init_fail(p, "create", "/dev/console", errno);
        ::close(f);
        fd = sys::open_in_root(rootfd, "/dev/console", O_PATH | O_NOFOLLOW);
    }
    if (fd < 0) init_fail(p, "open", "/dev/console", -fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0) init_fail(p, "stat", "/dev/console", errno);
    if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
        init_fail(p, "refuse to mount the console on a non-file", "/dev/console", ELOOP);
    return fd;
}

}  // namespace

void init_console(const Plan& p) noexcept {
    if (!p.terminal) return;
    UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    // /dev/ptmx of the container (a link to its own devpts instance's ptmx).
    int m = sys::open_in_root(root.get(), "/dev/ptmx", O_RDWR | O_NOCTTY);
    if (m < 0) init_fail(p, "open", "/dev/ptmx", -m);
    UniqueFd master(m);
    int unlock = 0;
    if (::ioctl(m, TIOCSPTLCK, &unlock) != 0) init_fail(p, "unlock pty", "/dev/ptmx", errno);
    // The peer of this very master, without a path lookup that could be raced.
    int s = ::ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s < 0) init_fail(p, "open pty peer", "/dev/ptmx", errno);
    UniqueFd slave(s);
    if (p.console_rows || p.console_cols) {
        winsize ws{};
        ws.ws_row = static_cast<unsigned short>(p.console_rows);
        ws.ws_col = static_cast<unsigned short>(p.console_cols);
        if (::ioctl(s, TIOCSWINSZ, &ws) != 0) init_fail(p, "set console size", "", errno);
    }
    if (p.uid != 0 && ::fchown(s, p.uid, static_cast<gid_t>(-1)) != 0)
        init_fail(p, "chown pty", "", errno);

    UniqueFd target(console_target(p, root.get()));
    UniqueFd tree(::open_tree(s, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
    if (!tree) init_fail(p, "bind pty", "/dev/console", errno);
    if (::move_mount(tree.get(), "", target.get(), "",
                     MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
        init_fail(p, "mount pty on", "/dev/console", errno);

    static const char kName[] = "console";
    if (int r = security::send_fd(p.console_fd, m, kName, sizeof kName - 1); r < 0)
        init_fail(p, "send pty master to the console socket", "", -r);
    ::close(p.console_fd);

    if (::setsid() < 0) init_fail(p, "setsid", "", errno);
    if (::ioctl(s, TIOCSCTTY, 0) != 0) init_fail(p, "set controlling terminal", "", errno);
    for (int fd = 0; fd < 3; ++fd)
        if (::dup2(s, fd) < 0) init_fail(p, "dup2 pty", "", errno);
}

}  // namespace husk::runtime
