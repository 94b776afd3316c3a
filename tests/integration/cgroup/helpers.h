// Helpers for the cgroup integration tests: unique cgroup paths, forked
// processes that wait to be released, reaping (the test binary is a subreaper).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "runtime/cgroup/file.h"
#include "runtime/cgroup/layout.h"
#include "runtime/cgroup/manager.h"

namespace husk::cgtest {

// "cgroup-it" (or "cgroup-v2test" for the v2 binary): names our cgroups start with.
inline std::string& root_prefix() {
    static std::string prefix = "cgroup-it";
    return prefix;
}
// "/cgroup-it-<pid>": every cgroup of this test process lives under it.
inline std::string test_root() {
    return fmt::format("/{}-{}", root_prefix(), ::getpid());
}
inline std::string test_path(const std::string& name) {
    return test_root() + "/" + name;
}

inline std::string read_all(const std::string& path) {
    std::string s;
    runtime::cgroup::try_read_file(path, s);
    return s;
}

inline bool exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

// The directory of absolute cgroup path `p` in every mounted hierarchy.
inline std::vector<std::string> all_dirs(const std::string& p) {
    auto layout = runtime::cgroup::detect_layout();
    std::vector<std::string> out;
    for (const auto& m : layout.v1) out.push_back(m.mountpoint + p);
    if (layout.v2) out.push_back(layout.v2->mountpoint + p);
    return out;
}

// Subreaper for the whole run (PID 1 here does not reap orphans); removes the
// test root everywhere at the end.
class Environment : public ::testing::Environment {
  public:
    void SetUp() override { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }
    void TearDown() override {
        for (const auto& d : all_dirs(test_root())) ::rmdir(d.c_str());
        ::unlink(fmt::format("/tmp/{}-{}.log", root_prefix(), ::getpid()).c_str());
    }
};

// A forked child that blocks until release(), then runs `body` (in the child;
// it should not return). Like the runtime's init between clone and exec.
class Child {
  public:
    explicit Child(std::function<void()> body) {
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
        pid_ = ::fork();
        if (pid_ == 0) {
            ::close(p[1]);
            char c;
            if (::read(p[0], &c, 1) != 1) ::_exit(3);
            body();
            ::_exit(0);
        }
        ::close(p[0]);
        release_fd_ = p[1];
    }
    ~Child() {
        if (release_fd_ >= 0) ::close(release_fd_);
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    pid_t pid() const { return pid_; }
    void release() {
        [[maybe_unused]] auto n = ::write(release_fd_, "x", 1);
        ::close(release_fd_);
        release_fd_ = -1;
    }
    // Wait for the child's exit; returns the wait status.
    int wait() {
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return status;
    }

  private:
    pid_t pid_ = -1;
    int release_fd_ = -1;
};

// Body: fork `n` grandchildren that sleep, then sleep.
inline std::function<void()> sleepers(int n) {
    return [n] {
        for (int i = 0; i < n; ++i)
            if (::fork() == 0) {
                for (;;) ::pause();
            }
        for (;;) ::pause();
    };
}

// Poll `pred` until true or ~10 s passed (a bound against hangs, not a timing check).
inline bool eventually(const std::function<bool()>& pred) {
    for (int i = 0; i < 1000; ++i) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return pred();
}

// Reap every exited child (grandchildren are ours too: subreaper).
inline void reap_all() {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
}

// A fork bomb that does not spin: fork until the kernel refuses 50 times, then wait.
inline void fork_until_refused() {
    for (int failures = 0; failures < 50;)
        if (::fork() < 0) {
            ++failures;
            ::usleep(1000);
        }
    for (;;) ::pause();
}

// SIGKILL everything in `mgr`, reap, destroy, and check nothing is left.
inline void kill_and_destroy(runtime::cgroup::Manager& mgr, Child& child) {
    mgr.kill_all(SIGKILL);
    child.wait();
    ASSERT_TRUE(eventually([&] {
        reap_all();
        return mgr.pids().empty();
    }));
    mgr.destroy();
    for (const auto& d : mgr.dirs()) EXPECT_FALSE(exists(d)) << d;
}

}  // namespace husk::cgtest
