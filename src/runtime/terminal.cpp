#include "runtime/terminal.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <optional>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "sys/error.h"

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

bool write_all(int fd, const char* p, size_t n) {
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

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
            if (!write_all(1, buf, static_cast<size_t>(r))) break;
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = ::read(0, buf, sizeof buf);
            if (r > 0) {
                write_all(master, buf, static_cast<size_t>(r));
            } else if (r == 0 || (r < 0 && errno != EINTR)) {
                // Our stdin ended: pass an end-of-file to the container's terminal once.
                const char eof = '\x04';  // VEOF (^D) of a pty in its default settings
                write_all(master, &eof, 1);
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

}  // namespace husk::runtime
