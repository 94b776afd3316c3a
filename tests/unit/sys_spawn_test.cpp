// sys::spawn_and_wait: how a helper program (a hook, a CNI plugin) ended, as a result
// the caller reads by kind, and the words hook failures print.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstring>
#include <string>
#include <vector>

#include "sys/spawn.h"

namespace {

using husk::sys::SpawnResult;

SpawnResult run_sh(const std::string& script, int timeout_s = 0) {
    std::vector<std::string> args = {"/bin/sh", "-c", script};
    std::vector<std::string> env;
    auto argv = husk::sys::c_strings(args);
    auto envp = husk::sys::c_strings(env);
    return husk::sys::spawn_and_wait("/bin/sh", argv.data(), envp.data(), timeout_s, nullptr, 0, -1,
                                     -1);
}

}  // namespace

TEST(SpawnAndWait, ExitStatusZeroIsOk) {
    SpawnResult r = run_sh("exit 0");
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(husk::sys::describe_spawn_result(r), "exit status 0");
}

TEST(SpawnAndWait, NonZeroExitStatusIsReportedAsItself) {
    SpawnResult r = run_sh("exit 3");
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.kind, SpawnResult::Kind::exited);
    EXPECT_EQ(r.value, 3);
    EXPECT_EQ(husk::sys::describe_spawn_result(r), "exit status 3");
}

TEST(SpawnAndWait, KilledBySignalIsNotAnExitStatus) {
    SpawnResult r = run_sh("kill -9 $$");
    EXPECT_EQ(r.kind, SpawnResult::Kind::signaled);
    EXPECT_EQ(r.value, SIGKILL);
    EXPECT_EQ(husk::sys::describe_spawn_result(r), "killed by signal 9");
}

TEST(SpawnAndWait, MissingProgramExitsWith127) {
    std::vector<std::string> args = {"/nonexistent/husk-hook"};
    auto argv = husk::sys::c_strings(args);
    char* envp[] = {nullptr};
    SpawnResult r =
        husk::sys::spawn_and_wait(args[0].c_str(), argv.data(), envp, 0, nullptr, 0, -1, -1);
    EXPECT_TRUE(r.exited(127));
}

TEST(SpawnAndWait, TimeoutKillsAndSaysSo) {
    // The program never ends by itself: only the timeout can end the wait.
    SpawnResult r = run_sh("while :; do sleep 1; done", 1);
    EXPECT_EQ(r.kind, SpawnResult::Kind::timed_out);
    EXPECT_EQ(husk::sys::describe_spawn_result(r), "timed out");
}

TEST(SpawnAndWait, StdinGetsTheInputBytes) {
    std::vector<std::string> args = {"/bin/sh", "-c", "read x; [ \"$x\" = hello ]"};
    auto argv = husk::sys::c_strings(args);
    char* envp[] = {nullptr};
    const char input[] = "hello\n";
    SpawnResult r = husk::sys::spawn_and_wait("/bin/sh", argv.data(), envp, 0, input,
                                              std::strlen(input), -1, -1);
    EXPECT_TRUE(r.ok());
}

TEST(SpawnAndWait, WithADeadlineAnEndBeforeItIsTheChildsOwn) {
    // waited for through the child's pidfd: its own exit status and signal, not a timeout
    SpawnResult r = run_sh("sleep 0.2; exit 4", 30);
    EXPECT_TRUE(r.exited(4));
    r = run_sh("kill -9 $$", 30);
    EXPECT_EQ(r.kind, SpawnResult::Kind::signaled);
    EXPECT_EQ(r.value, SIGKILL);
}
