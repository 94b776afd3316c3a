// What the crash tests need beyond the harness: processes started and killed at a chosen
// moment, and the processes a container can leave on the host.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace husk::test {

// The husk binary: $HUSK, else the one built with the tests.
std::string husk_bin();

// A child process: argv executed with stdin from /dev/null and its output in `log`
// (appended). Killed (SIGKILL) and reaped when the object dies, unless waited for.
class Child {
  public:
    Child(const std::vector<std::string>& argv, const std::string& log);
    ~Child();
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    pid_t pid() const { return pid_; }
    void kill();  // SIGKILL (a child that exited already stays as it was: reaped below)
    // Waits up to `limit`; false when it has not exited by then (a hang, not a result).
    bool wait(std::chrono::milliseconds limit);
    int status() const { return status_; }  // exit code, or 128+signal

  private:
    pid_t pid_ = -1;
    int status_ = -1;
};

// Live (not zombie) processes whose command line contains `needle`, as "pid: cmdline".
std::vector<std::string> processes_with(const std::string& needle);

}  // namespace husk::test
