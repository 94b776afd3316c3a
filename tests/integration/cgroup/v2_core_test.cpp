// The cgroup2 core, for real on any host with cgroup2 mounted (also hybrid, where
// /sys/fs/cgroup/unified holds few or no controllers): a manager that sees only the
// cgroup2 directory, as on a pure v2 host. CLONE_INTO_CGROUP, cgroup.freeze,
// cgroup.kill, cgroup.procs; the controllers themselves are in v2_test.cpp.
#include <linux/sched.h>
#include <sys/syscall.h>

#include <nlohmann/json.hpp>

#include "helpers.h"
#include "runtime/cgroup/manager.h"
#include "sys/error.h"

namespace husk::cgtest {
namespace {

using runtime::cgroup::Manager;

// The cgroup2 part of `mgr` alone: what a pure cgroup v2 host gives.
std::unique_ptr<Manager> v2_view(const Manager& mgr) {
    auto saved = nlohmann::json::parse(mgr.save());
    nlohmann::json only;
    only["v2"] = saved.at("v2");
    return Manager::load(only.dump());
}

// clone3(CLONE_INTO_CGROUP): the child starts inside the cgroup; it runs `body`.
pid_t clone_into(int cgroup_fd, void (*body)()) {
    clone_args args{};
    args.flags = CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.cgroup = static_cast<uint64_t>(cgroup_fd);
    long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) {
        body();
        ::_exit(0);
    }
    return static_cast<pid_t>(pid);
}

void sleep_forever() {
    for (;;) ::pause();
}

class CgroupV2Core : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!runtime::cgroup::detect_layout().v2) GTEST_SKIP() << "cgroup2 is not mounted";
        // On a hybrid host cgroup2 is joined only when something needs it: a unified key does.
        oci::Resources r;
        r.unified["cgroup.max.descendants"] = "100";
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        full_ = Manager::create(test_path(info->name()), "v2", &r);
        v2_ = v2_view(*full_);
    }
    void TearDown() override {
        if (full_) full_->destroy();
    }
    std::unique_ptr<Manager> full_, v2_;
};

TEST_F(CgroupV2Core, CloneIntoCgroupAndList) {
    ASSERT_GE(v2_->clone_into_fd(), 0);
    pid_t pid = clone_into(v2_->clone_into_fd(), sleep_forever);
    ASSERT_GT(pid, 0) << "clone3: " << std::strerror(errno);
    const std::string cg = read_all(fmt::format("/proc/{}/cgroup", pid));
    EXPECT_NE(cg.find("0::" + test_path("CloneIntoCgroupAndList")), std::string::npos) << cg;
    EXPECT_EQ(v2_->pids(), std::vector<pid_t>{pid});
    v2_->kill_all(SIGKILL);  // cgroup.kill
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    EXPECT_TRUE(eventually([&] { return v2_->pids().empty(); }));
}

TEST_F(CgroupV2Core, FreezeThawAndSignalAll) {
    pid_t pid = clone_into(v2_->clone_into_fd(), [] {
        for (int i = 0; i < 2; ++i)
            if (::fork() == 0) sleep_forever();
        sleep_forever();
    });
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(eventually([&] { return v2_->pids().size() == 3; }));
    v2_->freeze();
    EXPECT_TRUE(v2_->frozen());
    EXPECT_NE(read_all(v2_->dir_of("") + "/cgroup.events").find("frozen 1"), std::string::npos);
    v2_->thaw();
    EXPECT_FALSE(v2_->frozen());
    v2_->kill_all(SIGTERM);  // freeze, signal each, thaw
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    EXPECT_TRUE(eventually([&] {
        reap_all();
        return v2_->pids().empty();
    }));
    EXPECT_FALSE(v2_->frozen());
}

}  // namespace
}  // namespace husk::cgtest
