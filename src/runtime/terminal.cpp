// A container's terminal, both halves. The host side: the console socket engines
// listen on, and for a foreground `run`, the relay between our own terminal and the
// pty. The child side (init_console, between clone and execve: no allocation, no
// throw): a pty allocated inside the container's own devpts, the master sent to the
// engine over the console socket, the slave made stdio, the controlling terminal and
// /dev/console.
#include "runtime/terminal.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <optional>

#include <cerrno>
#include <climits>
#include <cstring>

#include <fmt/format.h>

#include "runtime/init.h"
#include "sys/error.h"
#include "sys/mount_api.h"
#include "sys/safe_path.h"
#include "sys/syscalls.h"
#include "sys/unix_socket.h"

namespace husk::runtime {
namespace {

// Raw mode on a terminal for as long as the object lives.
class RawMode {
  public:
    explicit RawMode(int fd) : fd_(fd) {
        if (!::isatty(fd) || ::tcgetattr(fd, &saved_) != 0) return;
        termios raw = saved_;
        ::cfmakeraw(&raw);
        active_ = ::tcsetattr(fd, TCSANOW, &raw) == 0;
    }
    ~RawMode() {
        if (active_) ::tcsetattr(fd_, TCSANOW, &saved_);
    }
    RawMode(const RawMode&) = delete;
    RawMode& operator=(const RawMode&) = delete;

  private:
    int fd_;
    termios saved_{};
    bool active_ = false;
};

}  // namespace

sys::UniqueFd connect_console_socket(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
        throw Error(fmt::format("console socket \"{}\": path too long", path));
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    sys::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) throw_sys("socket");
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        throw_sys("connect to console socket", path);
    return fd;
}

void copy_window_size(int master) {
    winsize ws{};
    if (::ioctl(0, TIOCGWINSZ, &ws) == 0 || ::ioctl(1, TIOCGWINSZ, &ws) == 0)
        ::ioctl(master, TIOCSWINSZ, &ws);
}

void relay_terminal(int master, bool forward_input) {
    std::optional<RawMode> raw;
    if (forward_input) raw.emplace(0);
    copy_window_size(master);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGWINCH);
    sigset_t old;
    ::sigprocmask(SIG_BLOCK, &mask, &old);
    sys::UniqueFd winch(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    pollfd fds[3] = {
        {forward_input ? 0 : -1, POLLIN, 0}, {master, POLLIN, 0}, {winch.get(), POLLIN, 0}};
    char buf[8192];
    for (;;) {
        int n = ::poll(fds, 3, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = ::read(master, buf, sizeof buf);
            if (r < 0 && errno == EINTR) continue;
            // EIO: every slave fd is closed, the container's side is gone.
            if (r <= 0) break;
            if (!sys::write_all(1, buf, static_cast<size_t>(r))) break;
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = ::read(0, buf, sizeof buf);
            if (r > 0) {
                sys::write_all(master, buf, static_cast<size_t>(r));
            } else if (r == 0 || (r < 0 && errno != EINTR)) {
                // Our stdin ended: pass an end-of-file to the container's terminal once.
                const char eof = '\x04';  // VEOF (^D) of a pty in its default settings
                sys::write_all(master, &eof, 1);
                fds[0].fd = -1;
            }
        }
        if (fds[2].revents & POLLIN) {
            signalfd_siginfo si;
            while (::read(winch.get(), &si, sizeof si) == sizeof si) {
            }
            copy_window_size(master);
        }
    }
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
}

// --- child side: runs between clone and execve ---

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

    if (p.mount_console) {  // the init only: exec'd processes get a pty, not the console
        UniqueFd target(console_target(p, root.get()));
        UniqueFd tree(sys::clone_mount(s, ""));
        if (!tree) init_fail(p, "bind pty", "/dev/console", -tree.get());
        if (int r = sys::attach_mount(tree.get(), target.get()); r < 0)
            init_fail(p, "mount pty on", "/dev/console", -r);
    }

    static const char kName[] = "console";
    if (int r = sys::send_fd(p.console_fd, m, kName, sizeof kName - 1); r < 0)
        init_fail(p, "send pty master to the console socket", "", -r);
    ::close(p.console_fd);

    if (::setsid() < 0) init_fail(p, "setsid", "", errno);
    if (::ioctl(s, TIOCSCTTY, 0) != 0) init_fail(p, "set controlling terminal", "", errno);
    for (int fd = 0; fd < 3; ++fd)
        if (::dup2(s, fd) < 0) init_fail(p, "dup2 pty", "", errno);
}

// --- end child side ---

}  // namespace husk::runtime
