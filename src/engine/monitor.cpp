#include "engine/monitor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cctype>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "engine/events.h"
#include "engine/health.h"
#include "engine/run.h"
#include "monitor/attach_protocol.h"
#include "runtime/container.h"
#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/log.h"
#include "sys/syscalls.h"
#include "sys/unix_socket.h"
#include "sys/user_dirs.h"

namespace husk::engine {

using sys::UniqueFd;

namespace {

struct Pipe {
    UniqueFd r, w;
    Pipe() {
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0) throw_sys("pipe2");
        r.reset(p[0]);
        w.reset(p[1]);
    }
};

void keep_on_exec(int fd) {
    if (fd >= 0) ::fcntl(fd, F_SETFD, 0);
}

void dup_onto(int fd, int target) {
    if (fd == target) {
        ::fcntl(fd, F_SETFD, 0);
        return;
    }
    ::dup2(fd, target);
}

// Everything the future monitor holds; made before the fork that creates the container.
struct MonitorFds {
    UniqueFd lock, listen;
    Pipe pid, out, err;
    std::optional<Pipe> in;
    UniqueFd console_ours, console_theirs;
};

MonitorFds monitor_fds(const ContainerRecord& rec) {
    MonitorFds m;
    // O_CLOEXEC: only the monitor keeps it (cleared before its exec); an OFD lock lives
    // as long as an fd of this open file does.
    m.lock.reset(::open("monitor.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!m.lock) throw_sys("open", "monitor.lock");
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (::fcntl(m.lock.get(), F_OFD_SETLK, &fl) != 0)
        throw Error(fmt::format("container {} already has a monitor", rec.id));
    ::unlink("exit.json");
    ::unlink(HUSK_ATTACH_SOCKET);
    m.listen.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!m.listen) throw_sys("socket");
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strcpy(a.sun_path, HUSK_ATTACH_SOCKET);  // relative: we are in the container's directory
    if (::bind(m.listen.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        throw_sys("bind", HUSK_ATTACH_SOCKET);
    if (::listen(m.listen.get(), 8) != 0) throw_sys("listen", HUSK_ATTACH_SOCKET);
    if (rec.open_stdin && !rec.tty) m.in.emplace();
    if (rec.tty) {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) throw_sys("socketpair");
        m.console_ours.reset(sv[0]);
        m.console_theirs.reset(sv[1]);
    }
    return m;
}

// The creating process: stdio on the monitor's pipes, the runtime core in-process.
[[noreturn]] void create_child(const EngineContext& ctx, const ContainerRecord& rec,
                               const std::string& bundle, MonitorFds& m, int report) {
    try {
        {
            UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
            dup_onto(m.in ? m.in->r.get() : null.get(), STDIN_FILENO);
            dup_onto(rec.tty ? null.get() : m.out.w.get(), STDOUT_FILENO);
            dup_onto(rec.tty ? null.get() : m.err.w.get(), STDERR_FILENO);
        }
        // The container's init is cloned from us: it must not inherit the monitor's fds
        // (monitor.lock above all: it would count as the monitor while it waits for start).
        sys::close_fds_except(3, {report, m.pid.w.get(), m.console_theirs.get()});
        runtime::CreateOptions co;
        co.root = ctx.state_root();
        co.id = rec.id;
        co.rootless = sys::unprivileged();  // root of a user namespace too
        co.bundle = bundle;
        co.console_fd = rec.tty ? m.console_theirs.get() : -1;
        pid_t pid = runtime::create(co);
        write_str(m.pid.w.get(), std::to_string(pid));
        write_str(report, fmt::format("ok {}\n", pid));
        ::_exit(0);
    } catch (const Error& e) {
        Error failed = create_error(e, rec.command);
        write_str(report, fmt::format("err {} {}\n", failed.exit_code(), failed.what()));
    } catch (const std::exception& e) {
        write_str(report, fmt::format("err {} {}\n", kExitEngineError, e.what()));
    }
    ::_exit(1);
}

// The future monitor: subreaper, in the container's directory, execs husk-monitor.
[[noreturn]] void monitor_child(const EngineContext& ctx, const ContainerRecord& rec,
                                const std::string& dir, const std::vector<std::string>& argv,
                                int report) {
    try {
        // Nothing of husk's (the record's lock held by `husk start`) nor of its caller's
        // (pipes, a test runner's fds) goes on in the monitor or the container.
        sys::close_fds_except(3, {report});
        ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        if (::chdir(dir.c_str()) != 0) throw_sys("chdir", dir);
        MonitorFds m = monitor_fds(rec);
        pid_t b = ::fork();
        if (b < 0) throw_sys("fork");
        if (b == 0) create_child(ctx, rec, dir, m, report);
        std::vector<std::string> args = argv;
        auto fd_arg = [](const UniqueFd& fd) { return std::to_string(fd.get()); };
        // DIR LOG MAX_SIZE MAX_FILE PID_FD OUT_FD ERR_FD IN_FD CONSOLE_FD LISTEN_FD
        // EVENTS ID NAME IMAGE RESTART HEALTH_MS HEALTH_START_MS HEALTH_PERIOD_MS -- HUSK...
        std::vector<std::string> head = {
            argv[0],
            dir,
            rec.id + "-json.log",
            std::to_string(rec.log_max_size),
            std::to_string(rec.log_max_file),
            fd_arg(m.pid.r),
            rec.tty ? "-1" : fd_arg(m.out.r),
            rec.tty ? "-1" : fd_arg(m.err.r),
            m.in ? fd_arg(m.in->w) : "-1",
            fd_arg(m.console_ours),
            fd_arg(m.listen),
            journal_path(ctx.data_root),
            rec.id,
            rec.name,
            rec.image.empty() ? rec.rootfs : rec.image,
            rec.restart_policy,
            std::to_string(rec.health ? rec.health->interval_ns / 1000000 : 0),
            std::to_string(rec.health ? health_start_interval_ms(*rec.health) : 0),
            std::to_string(rec.health ? rec.health->start_period_ns / 1000000 : 0),
            "--"};
        args.erase(args.begin());
        args.insert(args.begin(), head.begin(), head.end());
        for (int fd : {m.lock.get(), m.listen.get(), m.pid.r.get(), m.out.r.get(), m.err.r.get(),
                       m.in ? m.in->w.get() : -1, m.console_ours.get()})
            keep_on_exec(fd);
        std::vector<char*> cargv;
        cargv.reserve(args.size() + 1);
        for (auto& a : args) cargv.push_back(a.data());
        cargv.push_back(nullptr);
        // the other ends belong to the creating process
        m.pid.w.reset();
        m.out.w.reset();
        m.err.w.reset();
        if (m.in) m.in->r.reset();
        m.console_theirs.reset();
        // the monitor's stdio: nothing in, its complaints (and the cleanup's) to monitor.log
        UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
        UniqueFd log(::open("monitor.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
        ::dup2(null.get(), STDIN_FILENO);
        ::dup2(null.get(), STDOUT_FILENO);
        ::dup2(log ? log.get() : null.get(), STDERR_FILENO);
        // what a boot unit's PIDFile= names (the monitor keeps this pid: exec)
        sys::write_file_atomic("monitor.pid", fmt::format("{}\n", ::getpid()));
        ::execv(cargv[0], cargv.data());
        throw_sys("execve", cargv[0]);
    } catch (const std::exception& e) {
        write_str(report, fmt::format("err {} monitor: {}\n", kExitEngineError, e.what()));
    }
    ::_exit(1);
}

}  // namespace

void write_str(int fd, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
        ssize_t n = ::write(fd, s.data() + off, s.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        off += static_cast<size_t>(n);
    }
}

pid_t start_monitored(const EngineContext& ctx, const ContainerRecord& rec) {
    Containers db(ctx.data_root);
    std::string dir = db.dir(rec.id);
    // husk-monitor's argv[0] and husk's, to which it adds the hidden commands it runs
    // (container-cleanup, container-restart, healthcheck run) and the container's id
    std::vector<std::string> argv = {find_helper("husk-monitor", "HUSK_MONITOR"), husk_exe(),
                                     "--root", ctx.data_root};
    sys::mkdir_all(ctx.state_root(), 0700);
    Pipe report;
    std::fflush(nullptr);
    pid_t x = ::fork();
    if (x < 0) throw_sys("fork");
    if (x == 0) {
        report.r.reset();
        ::setsid();  // away from our terminal and its signals
        pid_t a = ::fork();
        if (a == 0) monitor_child(ctx, rec, dir, argv, report.w.get());
        ::_exit(a < 0 ? 1 : 0);
    }
    report.w.reset();
    int st = 0;
    while (::waitpid(x, &st, 0) < 0 && errno == EINTR) {
    }
    // Up to the first line: the container's init inherits the creating process's copy
    // of the pipe and holds it until it execs, i.e. until we start it.
    std::string text;
    char buf[4096];
    while (text.find('\n') == std::string::npos) {
        ssize_t n = ::read(report.r.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text.append(buf, static_cast<size_t>(n));
    }
    pid_t pid = 0;
    std::string error;
    int code = kExitEngineError;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        std::string line = text.substr(pos, nl == std::string::npos ? nl : nl - pos);
        pos = nl == std::string::npos ? text.size() : nl + 1;
        if (line.starts_with("ok ")) {
            pid = std::atoi(line.c_str() + 3);
        } else if (line.starts_with("err ") && error.empty()) {
            char* end = nullptr;
            code = static_cast<int>(std::strtol(line.c_str() + 4, &end, 10));
            error = *end == ' ' ? end + 1 : end;
        }
    }
    if (!error.empty() || pid <= 0) {
        if (pid > 0) runtime::remove(ctx.state_root(), rec.id, true);
        throw Error(error.empty() ? "the container's monitor failed to start" : error,
                    ExitCode{code});
    }
    return pid;
}

// ---- attach ---------------------------------------------------------------------------

sys::UniqueFd connect_attach(const Containers& db, const std::string& id) {
    std::string dir = db.dir(id);
    UniqueFd dfd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dfd) throw_sys("open", dir);
    UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s) throw_sys("socket");
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    // through /proc: the data root may be deeper than a socket path can be long
    auto path = fmt::format("/proc/self/fd/{}/{}", dfd.get(), HUSK_ATTACH_SOCKET);
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        throw_sys("connect", dir + "/" + HUSK_ATTACH_SOCKET);
    return s;
}

void tell_no_restart(const Containers& db, const std::string& id) {
    try {
        UniqueFd s = connect_attach(db, id);
        unsigned char h[HUSK_ATTACH_HEADER_SIZE];
        husk_attach_header(h, HUSK_ATTACH_NO_RESTART, 0);
        if (::send(s.get(), h, sizeof h, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof h))
            throw_sys("send", db.dir(id) + "/" + HUSK_ATTACH_SOCKET);
    } catch (const std::exception& e) {
        log::debug("container {}: no monitor to tell of the stop: {}", id, e.what());
    }
}

void hand_to_monitor(const Containers& db, const std::string& id, int fd) {
    UniqueFd s = connect_attach(db, id);
    unsigned char h[HUSK_ATTACH_HEADER_SIZE];
    husk_attach_header(h, HUSK_ATTACH_HOLD, 0);
    if (int err = sys::send_fd(s.get(), fd, h, sizeof h); err != 0) {
        errno = -err;
        throw_sys("send the network helper's exit pipe to the monitor on",
                  db.dir(id) + "/" + HUSK_ATTACH_SOCKET);
    }
}

std::string parse_detach_keys(const std::string& keys) {
    std::string out;
    size_t pos = 0;
    while (pos <= keys.size()) {
        size_t comma = keys.find(',', pos);
        std::string k = keys.substr(pos, comma == std::string::npos ? comma : comma - pos);
        pos = comma == std::string::npos ? keys.size() + 1 : comma + 1;
        if (k.size() == 1) {
            out += k[0];
        } else if (k.size() == 6 && k.starts_with("ctrl-")) {
            char c = static_cast<char>(std::tolower(static_cast<unsigned char>(k[5])));
            if (c >= 'a' && c <= 'z')
                out += static_cast<char>(c - 'a' + 1);
            else if (c == '@')
                out += '\0';
            else if (c == '[' || c == '\\' || c == ']' || c == '^' || c == '_')
                out += static_cast<char>(c - '@');
            else
                throw Error(fmt::format("invalid detach keys: \"{}\"", keys));
        } else {
            throw Error(fmt::format("invalid detach keys: \"{}\"", keys));
        }
    }
    return out;
}

namespace {

// Takes the first complete frame off `buf`; false when it holds none yet.
bool next_frame(std::string& buf, unsigned char& type, std::string& payload) {
    if (buf.size() < HUSK_ATTACH_HEADER_SIZE) return false;
    const auto* h = reinterpret_cast<const unsigned char*>(buf.data());
    size_t len = husk_attach_length(h);
    if (buf.size() < HUSK_ATTACH_HEADER_SIZE + len) return false;
    type = h[0];
    payload = buf.substr(HUSK_ATTACH_HEADER_SIZE, len);
    buf.erase(0, HUSK_ATTACH_HEADER_SIZE + len);
    return true;
}

bool send_frame(int sock, husk_attach_frame type, const char* p, size_t n) {
    unsigned char h[HUSK_ATTACH_HEADER_SIZE];
    husk_attach_header(h, type, n);
    std::string msg(reinterpret_cast<char*>(h), sizeof h);
    msg.append(p, n);
    return ::send(sock, msg.data(), msg.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(msg.size());
}

void send_size(int sock) {
    winsize ws{};
    if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) != 0) return;
    auto s = fmt::format("{} {}", ws.ws_row, ws.ws_col);
    send_frame(sock, HUSK_ATTACH_RESIZE, s.data(), s.size());
}

struct RawMode {
    termios saved{};
    bool on = false;
    RawMode(bool want) {
        if (!want || ::tcgetattr(STDIN_FILENO, &saved) != 0) return;
        termios raw = saved;
        ::cfmakeraw(&raw);
        on = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
    ~RawMode() {
        if (on) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    }
};

}  // namespace

int attach_relay(int sock, bool tty, bool in, const std::string& detach_keys) {
    bool term = tty && in && ::isatty(STDIN_FILENO);
    RawMode raw(term);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGWINCH);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    UniqueFd winch(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (term) send_size(sock);
    std::string frames;  // from the monitor, not yet complete
    size_t matched = 0;  // bytes of the detach sequence seen so far (held back)
    bool stdin_open = in;
    char buf[32768];
    for (;;) {
        pollfd p[3] = {{sock, POLLIN, 0},
                       {stdin_open ? STDIN_FILENO : -1, POLLIN, 0},
                       {term ? winch.get() : -1, POLLIN, 0}};
        if (::poll(p, 3, -1) < 0) {
            if (errno == EINTR) continue;
            throw_sys("poll");
        }
        if (p[2].revents) {
            signalfd_siginfo si;
            while (::read(winch.get(), &si, sizeof si) > 0) {
            }
            send_size(sock);
        }
        if (p[1].revents) {
            ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
            if (n <= 0) {
                stdin_open = false;
                send_frame(sock, HUSK_ATTACH_CLOSE_STDIN, "", 0);
            } else {
                std::string data;
                for (ssize_t i = 0; i < n; ++i) {
                    if (!detach_keys.empty() && buf[i] == detach_keys[matched]) {
                        if (++matched == detach_keys.size()) return -2;
                        continue;
                    }
                    data.append(detach_keys, 0, matched);
                    matched = 0;
                    data += buf[i];
                }
                if (!data.empty()) send_frame(sock, HUSK_ATTACH_STDIN, data.data(), data.size());
            }
        }
        if (p[0].revents) {
            ssize_t n = ::read(sock, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return -2;
            frames.append(buf, static_cast<size_t>(n));
            unsigned char type;
            std::string payload;
            while (next_frame(frames, type, payload)) {
                if (type == HUSK_ATTACH_STDOUT) write_str(STDOUT_FILENO, payload);
                if (type == HUSK_ATTACH_STDERR) write_str(STDERR_FILENO, payload);
                if (type == HUSK_ATTACH_EXIT) return std::atoi(payload.c_str());
            }
        }
    }
}

std::optional<int> read_exit_code(int sock) {
    std::string frames;
    char buf[32768];
    for (;;) {
        ssize_t n = ::read(sock, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return std::nullopt;
        frames.append(buf, static_cast<size_t>(n));
        unsigned char type;
        std::string payload;
        while (next_frame(frames, type, payload))
            if (type == HUSK_ATTACH_EXIT) return std::atoi(payload.c_str());
    }
}

int attach(const Containers& db, const ContainerRecord& rec, bool in,
           const std::string& detach_keys) {
    UniqueFd s = connect_attach(db, rec.id);
    return attach_relay(s.get(), rec.tty, in, parse_detach_keys(detach_keys));
}

// ---- finding our binaries -------------------------------------------------------------

std::string husk_exe() {
    if (const char* env = std::getenv("HUSK_EXE"); env && *env) return env;
    char self[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) throw_sys("readlink", "/proc/self/exe");
    self[n] = '\0';
    return self;
}

std::string find_helper(const std::string& name, const char* env_override) {
    if (const char* env = std::getenv(env_override); env && *env) return env;
    std::string dir = husk_exe();
    dir.resize(dir.rfind('/'));
    for (auto& path :
         {fmt::format("{}/{}", dir, name), fmt::format("{}/../libexec/husk/{}", dir, name)})
        if (::access(path.c_str(), X_OK) == 0) return path;
    std::string sys_path = "/usr/libexec/husk/" + name;
    if (::access(sys_path.c_str(), X_OK) == 0) return sys_path;
    throw Error(fmt::format("{} not found next to husk nor in /usr/libexec/husk (set {})", name,
                            env_override));
}

}  // namespace husk::engine
