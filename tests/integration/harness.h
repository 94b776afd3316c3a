// Test harness for the integration tests: bundles made from Debian's busybox-static
// and our husk-probe, husk-runtime run as engines run it, and cleanup.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace husk::test {

struct Result {
    // What run() reports for a program it had to kill after its timeout: a hang is its
    // own result, never the 137 of a SIGKILL that a test may expect (an OOM kill).
    static constexpr int kTimedOut = -2;
    int status = -1;  // exit code, 128+signal, or kTimedOut
    std::string out, err;
    bool timed_out() const { return status == kTimedOut; }
};

// Run argv, feeding nothing on stdin, capturing stdout/stderr; kills it after `timeout_s`
// and reports Result::kTimedOut.
Result run(const std::vector<std::string>& argv, int timeout_s = 30);

// Paths of the built binaries (set by CMake through the environment or compile definitions).
std::string runtime_bin();
std::string probe_bin();

// A unique temporary directory removed (after unmounting what is left) on destruction.
class TempDir {
  public:
    explicit TempDir(const std::string& tag);
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

// A bundle: rootfs with busybox (and its applets) and /bin/husk-probe, and a config.json
// from `husk-runtime spec` adjusted to run without a terminal.
class Bundle {
  public:
    explicit Bundle(const std::string& tag);
    ~Bundle();
    const std::string& dir() const { return tmp_.path(); }
    std::string rootfs() const { return dir() + "/rootfs"; }
    std::string state_root() const { return dir() + "/state"; }
    // The config (edit, then save()).
    nlohmann::json config;
    void save() const;
    void args(const std::vector<std::string>& a);
    // A unique container id for this bundle ("<tag>-<n>").
    std::string id(const std::string& suffix = "") const;
    // husk-runtime --root <state_root> <args...>
    Result runtime(const std::vector<std::string>& args, int timeout_s = 30) const;
    // runtime with --log <dir>/log.json --log-format json.
    Result runtime_json(const std::vector<std::string>& args) const;
    std::string log_path() const { return dir() + "/log.json"; }

  private:
    TempDir tmp_;
    std::string tag_;
};

// `husk-runtime run [run_flags] --bundle B ID` of the bundle's process; the last JSON line
// it printed (husk-probe's report), or an empty object. Adds a test failure on a non-zero
// exit, with the runtime's stderr.
nlohmann::json run_probe_json(Bundle& b, const std::vector<std::string>& run_flags = {});

// Lines of /proc/self/mountinfo whose mount point starts with `prefix`.
std::vector<std::string> mounts_under(const std::string& prefix);
// The cgroup and cgroup2 mount points of this host, from /proc/self/mountinfo: whatever
// its layout (pure v2, hybrid, v1), wherever they are mounted.
std::vector<std::string> cgroup_mounts();
// The cgroup directories (every hierarchy, up to 4 levels below its mount) whose path
// contains `needle`.
std::vector<std::string> cgroups_named(const std::string& needle);
// The directory of the cgroup called `name` where `controller` lives: its v1 hierarchy on
// a host that has one, else cgroup2 ("" when there is none).
std::string cgroup_dir(const std::string& name, const std::string& controller);
// Parse the last JSON line of `s`.
nlohmann::json last_json_line(const std::string& s);
// Is /proc/PID a live, non-zombie process?
bool alive(pid_t pid);
// The whole content of a file ("" when it cannot be read).
std::string read_file(const std::string& path);
// Does `path` exist (not following a final symlink)?
bool exists(const std::string& path);
// Wait until `path` exists (at most `seconds`).
bool wait_for_file(const std::string& path, int seconds);
// Names of the entries of a directory (not . and ..), sorted; empty when it is missing.
std::vector<std::string> list_dir(const std::string& path);

}  // namespace husk::test
