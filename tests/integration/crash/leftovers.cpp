#include "leftovers.h"

#include "harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace husk::test {

std::string husk_bin() {
    const char* env = std::getenv("HUSK");
    return env && *env ? env : HUSK_BIN;
}

Child::Child(const std::vector<std::string>& argv, const std::string& log) {
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (out < 0) throw std::runtime_error("open " + log);
    std::vector<char*> a;  // made before the fork: the child only execs
    a.reserve(argv.size() + 1);
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
        int null = ::open("/dev/null", O_RDONLY);
        ::dup2(null, 0);
        ::dup2(out, 1);
        ::dup2(out, 2);
        ::execv(a[0], a.data());
        ::_exit(127);
    }
    ::close(out);
    if (pid_ < 0) throw std::runtime_error("fork");
}

Child::~Child() {
    if (pid_ <= 0) return;
    kill();
    wait(std::chrono::seconds(10));
}

void Child::kill() {
    if (pid_ > 0) ::kill(pid_, SIGKILL);  // still ours until reaped: never a reused pid
}

bool Child::wait(std::chrono::milliseconds limit) {
    if (pid_ <= 0) return true;
    auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        int st = 0;
        pid_t r = ::waitpid(pid_, &st, WNOHANG);
        if (r == pid_) {
            status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            pid_ = -1;
            return true;
        }
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

namespace {

// A /proc file of a process that may end meanwhile (then: empty).
std::string proc_file(const std::string& path) {
    std::string out;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return out;
}

}  // namespace

std::vector<std::string> processes_with(const std::string& needle) {
    std::vector<std::string> out;
    for (const auto& pid : list_dir("/proc")) {
        if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string stat = proc_file("/proc/" + pid + "/stat");
        auto p = stat.rfind(')');
        if (p == std::string::npos || p + 2 >= stat.size() || stat[p + 2] == 'Z') continue;
        std::string cmd = proc_file("/proc/" + pid + "/cmdline");
        for (char& c : cmd)
            if (c == '\0') c = ' ';
        if (cmd.find(needle) == std::string::npos) continue;
        std::string line = pid;
        line += ": ";
        line += cmd;
        out.push_back(line);
    }
    return out;
}

}  // namespace husk::test
