// The limits hold for real: a fork bomb stops at pids.limit 20, a 100 MiB
// allocation under a 32 MiB limit is OOM-killed and counted, the v2 device
// program denies what it must (on the cgroup2 hierarchy, also on hybrid hosts).
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>

#include "helpers.h"
#include "runtime/cgroup/backends.h"
#include "runtime/cgroup/manager.h"
#include "sys/error.h"

namespace husk::cgtest {
namespace {

using runtime::cgroup::Manager;

TEST(CgroupLimits, ForkBombStopsAtPidsLimit) {
    oci::Resources r;
    r.pids.emplace().limit = 20;
    auto mgr = Manager::create(test_path("bomb"), "bomb", &r);
    // Every process forks until the kernel says no, then waits: no busy spinning.
    Child child(fork_until_refused);
    mgr->add_pid(child.pid());
    child.release();
    ASSERT_TRUE(eventually([&] { return mgr->pids().size() == 20; })) << mgr->pids().size();
    EXPECT_EQ(mgr->stats().pids_current, 20u);
    EXPECT_EQ(mgr->stats().pids_limit, 20u);
    // The host is fine: we can still start a process.
    pid_t p = ::fork();
    if (p == 0) ::_exit(7);
    int status = 0;
    ASSERT_GT(p, 0);
    ::waitpid(p, &status, 0);
    EXPECT_EQ(WEXITSTATUS(status), 7);
    EXPECT_LE(mgr->pids().size(), 20u);

    kill_and_destroy(*mgr, child);
}

TEST(CgroupLimits, OomKillIsCounted) {
    oci::Resources r;
    auto& m = r.memory.emplace();
    m.limit = 32 << 20;
    m.swap = 32 << 20;  // no swap on top: memory+swap = 32 MiB
    auto mgr = Manager::create(test_path("oom"), "oom", &r);
    EXPECT_EQ(mgr->oom_kills(), 0u);
    auto notifier = mgr->oom_notifier();
    ASSERT_TRUE(notifier);
    Child child([] {
        size_t n = 100 << 20;
        char* p = static_cast<char*>(
            ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        if (p == MAP_FAILED) ::_exit(2);
        for (size_t i = 0; i < n; i += 4096) p[i] = 1;
        ::_exit(0);
    });
    mgr->add_pid(child.pid());
    child.release();
    int status = child.wait();
    ASSERT_TRUE(WIFSIGNALED(status)) << "exit status " << WEXITSTATUS(status);
    EXPECT_EQ(WTERMSIG(status), SIGKILL);  // 128 + 9 = 137 as a container exit code
    EXPECT_TRUE(eventually([&] { return mgr->oom_kills() >= 1; }));
    struct pollfd pfd {
        notifier.get(), POLLIN, 0
    };
    EXPECT_EQ(::poll(&pfd, 1, 10000), 1) << "no OOM notification";
    EXPECT_GE(mgr->stats().oom_kills, 1u);
    mgr->destroy();
}

TEST(CgroupLimits, TinyMemoryLimitStillRunsAProgram) {
    oci::Resources r;
    r.memory.emplace().limit = 2 << 20;
    auto mgr = Manager::create(test_path("tiny"), "tiny", &r);
    // The limit is in force (a manager that wrote nothing would pass what follows too).
    EXPECT_EQ(mgr->stats().memory.limit, 2u << 20);
    Child child([] {
        ::execl("/bin/true", "true", nullptr);
        ::_exit(127);
    });
    mgr->add_pid(child.pid());
    child.release();
    int status = child.wait();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    mgr->destroy();
}

TEST(CgroupLimits, V2DeviceProgramDeniesWrites) {
    auto layout = runtime::cgroup::detect_layout();
    if (!layout.v2) GTEST_SKIP() << "cgroup2 is not mounted";
    oci::Resources join_v2;  // on a hybrid host cgroup2 is joined only when needed
    join_v2.unified["cgroup.max.descendants"] = "100";
    auto mgr = Manager::create(test_path("bpf"), "bpf", &join_v2);
    // Allow everything but writing /dev/null (c 1:3). On a hybrid host the program
    // works on the cgroup2 directory while v1 devices allows all.
    std::vector<oci::DeviceRule> rules = {{true, "a", std::nullopt, std::nullopt, "rwm"},
                                          {false, "c", 1, 3, "w"}};
    try {
        runtime::cgroup::v2::devices(mgr->dir_of(""), rules);
    } catch (const Error& e) {
        mgr->destroy();
        if (e.code() == EPERM || e.code() == ENOSYS)
            GTEST_SKIP() << "cannot load a cgroup device program here: " << e.what();
        throw;
    }
    Child child([] {
        int r = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (r < 0) ::_exit(10);
        int w = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
        ::_exit(w < 0 && errno == EPERM ? 0 : 11);
    });
    mgr->add_pid(child.pid());
    child.release();
    int status = child.wait();
    EXPECT_TRUE(WIFEXITED(status)) << status;
    EXPECT_EQ(WEXITSTATUS(status), 0) << "10: read denied, 11: write allowed";
    // Replacing the program (update) keeps exactly one in effect: writes allowed again.
    runtime::cgroup::v2::devices(mgr->dir_of(""), {{true, "a", std::nullopt, std::nullopt, "rwm"}});
    Child again([] { ::_exit(::open("/dev/null", O_WRONLY | O_CLOEXEC) >= 0 ? 0 : 12); });
    mgr->add_pid(again.pid());
    again.release();
    EXPECT_EQ(WEXITSTATUS(again.wait()), 0);
    mgr->destroy();
}

}  // namespace
}  // namespace husk::cgtest
