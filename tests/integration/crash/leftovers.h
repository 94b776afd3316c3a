// What the crash tests need: processes started and killed at a chosen moment, commands
// run with a bound that is reported as its own outcome, and what a container can leave
// on the host (cgroups in every hierarchy this host mounts, processes, mounts).
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

// argv to its end, bounded: `what` names it in the failure messages.
struct Bounded {
    bool finished = false;  // false: still running after the bound (killed then)
    int status = -1;
    std::string output;  // stdout and stderr
};
Bounded run_bounded(const std::vector<std::string>& argv, std::chrono::seconds limit);

// The cgroup mount points of this host (v1 hierarchies and cgroup2), from
// /proc/self/mountinfo: whatever the layout (pure v2, hybrid, v1).
std::vector<std::string> cgroup_mounts();
// Directories (up to `depth` below each cgroup mount) named `name`.
std::vector<std::string> cgroup_dirs_named(const std::string& name, int depth = 4);
// Live (not zombie) processes whose command line contains `needle`, as "pid: cmdline".
std::vector<std::string> processes_with(const std::string& needle);
// Entries of a directory (without . and ..), empty when it does not exist.
std::vector<std::string> entries(const std::string& dir);

}  // namespace husk::test
