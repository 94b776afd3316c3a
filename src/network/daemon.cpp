#include "network/daemon.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/proc.h"
#include "sys/spawn.h"
#include "sys/syscalls.h"

namespace husk::network {

namespace {

sys::UniqueFd open_lock(const std::string& dir) {
    std::string path = dir + "/lock";
    sys::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd) throw_sys("open", path);
    return fd;
}

// Takes the lock now if nobody holds it.
bool try_flock(int fd, const std::string& dir) {
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) return false;
        if (errno != EINTR) throw_sys("flock", dir + "/lock");
    }
    return true;
}

// Double-forked (its parent gone, it belongs to no command of ours), its fds closed but
// the lock and the ready pipe, stdio on /dev/null and DIR/log. Between fork and execve
// only async-signal-safe calls.
void spawn(std::vector<std::string>& args, const std::string& log, int lock, int ready) {
    std::vector<char*> argv = sys::c_strings(args);
    if (!sys::spawn_detached(argv.data(), log.c_str(), {lock, ready}))
        throw Error(fmt::format("fork (to start {}): failed", args[0]));
}

std::string read_line(int fd) {
    std::string text;
    char buf[512];
    while (text.find('\n') == std::string::npos) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text.append(buf, static_cast<size_t>(n));
    }
    return text.substr(0, text.find('\n'));
}

}  // namespace

bool start_daemon(const std::string& dir, std::vector<std::string> args) {
    sys::mkdir_all(dir, 0700);
    sys::UniqueFd lock = open_lock(dir);
    if (!try_flock(lock.get(), dir)) return false;  // one runs
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) throw_sys("pipe2");
    sys::UniqueFd rd(p[0]), wr(p[1]);
    args.insert(args.begin() + 1, {std::to_string(lock.get()), std::to_string(wr.get())});
    spawn(args, dir + "/log", lock.get(), wr.get());
    wr.reset();
    // our copy of the lock goes; the helper's holds it as long as it lives
    lock.reset();
    std::string line = read_line(rd.get());
    if (line == "ok") return true;
    if (line.starts_with("err ")) line = line.substr(4);
    if (line.empty()) line = fmt::format("{} ended without a word (see {}/log)", args[0], dir);
    throw Error(line);
}

void daemon_ready(int ready_fd, const std::string& dir, const std::string& error) {
    std::string line = "ok\n";
    if (error.empty()) {
        auto self = sys::proc_stat(::getpid());
        sys::write_file_atomic(
            dir + "/pid", fmt::format("{} {}\n", ::getpid(), self ? self->start_time : 0), 0600);
    } else {
        line = fmt::format("err {}\n", error);
        std::fprintf(stderr, "%s", line.c_str() + 4);
    }
    if (ready_fd < 0) return;
    (void)!::write(ready_fd, line.data(), line.size());
    ::close(ready_fd);
}

void stop_daemon(const std::string& dir) {
    if (!sys::exists_follow(dir)) return;
    sys::UniqueFd lock = open_lock(dir);
    if (!try_flock(lock.get(), dir)) {
        pid_t pid = 0;
        uint64_t start = 0;
        std::istringstream(sys::read_file_if_exists(dir + "/pid").value_or("")) >> pid >> start;
        sys::UniqueFd pidfd(pid > 0 ? sys::pidfd_open(pid) : -1);
        // the pid is the helper's only while it is the process that started then
        if (!pidfd || !sys::process_alive(pid, start))
            throw Error(fmt::format(
                "stop the helper in {}: its lock is held by no process its pid file names", dir));
        sys::kill_and_wait(pidfd.get(), pid, "the helper in " + dir);
        // its end released the lock
        while (::flock(lock.get(), LOCK_EX) != 0)
            if (errno != EINTR) throw_sys("flock", dir + "/lock");
    }
    sys::remove_all(dir);
}

}  // namespace husk::network
