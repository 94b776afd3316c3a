// The cgroup lifecycle with plain processes: create, join between fork and
// release, list, freeze, kill everything, destroy leaving nothing.
#include <fcntl.h>

#include <fstream>
#include <sstream>

#include "helpers.h"
#include "runtime/cgroup/manager.h"
#include "sys/error.h"

namespace husk::cgtest {
namespace {

using runtime::cgroup::Manager;

[[maybe_unused]] auto* const env = ::testing::AddGlobalTestEnvironment(new Environment);

bool contains(const std::vector<pid_t>& v, pid_t p) {
    return std::find(v.begin(), v.end(), p) != v.end();
}

std::string slurp(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

TEST(CgroupLifecycle, JoinListKillDestroy) {
    auto mgr = Manager::create(test_path("life"), "life", nullptr);
    Child child(sleepers(3));
    mgr->add_pid(child.pid());  // before the child runs anything, as the runtime does
    child.release();
    ASSERT_TRUE(eventually([&] { return mgr->pids().size() == 4; }))
        << "pids: " << mgr->pids().size();
    EXPECT_TRUE(contains(mgr->pids(), child.pid()));

    // The child is in the container's cgroup of every hierarchy.
    const std::string self = slurp(fmt::format("/proc/{}/cgroup", child.pid()));
    for (const auto& d : mgr->dirs()) EXPECT_TRUE(exists(d)) << d;
    EXPECT_NE(self.find(test_path("life")), std::string::npos) << self;
    size_t lines = std::count(self.begin(), self.end(), '\n');
    size_t joined = 0;
    for (size_t pos = 0; (pos = self.find(test_path("life"), pos)) != std::string::npos; ++pos)
        ++joined;
    EXPECT_EQ(joined, mgr->dirs().size()) << self << " (" << lines << " hierarchies)";

    mgr->kill_all(SIGKILL);
    int status = child.wait();
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    ASSERT_TRUE(eventually([&] {
        reap_all();
        return mgr->pids().empty();
    }));
    mgr->destroy();
    for (const auto& d : mgr->dirs()) EXPECT_FALSE(exists(d)) << d;
    mgr->destroy();  // idempotent
}

TEST(CgroupLifecycle, KillAllWithTermReachesChildren) {
    auto mgr = Manager::create(test_path("term"), "term", nullptr);
    Child child(sleepers(2));
    mgr->add_pid(child.pid());
    child.release();
    ASSERT_TRUE(eventually([&] { return mgr->pids().size() == 3; }));
    mgr->kill_all(SIGTERM);
    child.wait();
    EXPECT_TRUE(eventually([&] {
        reap_all();
        return mgr->pids().empty();
    }));
    EXPECT_FALSE(mgr->frozen());
    mgr->destroy();
}

TEST(CgroupLifecycle, FreezeThaw) {
    auto mgr = Manager::create(test_path("freeze"), "freeze", nullptr);
    Child child([] {
        for (;;) {
        }
    });
    mgr->add_pid(child.pid());
    child.release();
    EXPECT_FALSE(mgr->frozen());
    mgr->freeze();
    EXPECT_TRUE(mgr->frozen());
    mgr->thaw();
    EXPECT_FALSE(mgr->frozen());
    // kill_all of a paused container with SIGKILL still kills it.
    mgr->freeze();
    mgr->kill_all(SIGKILL);
    int status = child.wait();
    EXPECT_TRUE(WIFSIGNALED(status));
    EXPECT_FALSE(mgr->frozen());
    EXPECT_TRUE(eventually([&] { return mgr->pids().empty(); }));
    mgr->destroy();
}

TEST(CgroupLifecycle, SaveLoadRoundTrip) {
    auto mgr = Manager::create(test_path("saved"), "saved", nullptr);
    Child child(sleepers(0));
    mgr->add_pid(child.pid());
    child.release();
    auto loaded = Manager::load(mgr->save());
    EXPECT_EQ(loaded->save(), mgr->save());
    EXPECT_EQ(loaded->dirs(), mgr->dirs());
    EXPECT_TRUE(contains(loaded->pids(), child.pid()));
    loaded->kill_all(SIGKILL);
    child.wait();
    loaded->destroy();
    for (const auto& d : mgr->dirs()) EXPECT_FALSE(exists(d)) << d;
}

TEST(CgroupLifecycle, EmptyLeftoverIsReused) {
    // A crashed runtime left the cgroup (empty) behind: the same id works again.
    const auto leftovers = all_dirs(test_path("left"));
    for (const auto& d : leftovers) runtime::cgroup::make_dirs(d);
    auto mgr = Manager::create(test_path("left"), "left", nullptr);
    EXPECT_TRUE(mgr->pids().empty());
    mgr->destroy();
    for (const auto& d : mgr->dirs()) EXPECT_FALSE(exists(d)) << d;
    // (cgroup2 on a hybrid host is joined only when needed: its leftover is ours to remove.)
    for (const auto& d : leftovers) ::rmdir(d.c_str());
}

TEST(CgroupLifecycle, BusyCgroupIsRefusedAndKept) {
    auto first = Manager::create(test_path("busy"), "busy", nullptr);
    Child child(sleepers(0));
    first->add_pid(child.pid());
    child.release();
    try {
        Manager::create(test_path("busy"), "busy", nullptr);
        ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("is in use"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(contains(first->pids(), child.pid()));
    first->kill_all(SIGKILL);
    child.wait();
    first->destroy();
}

TEST(CgroupLifecycle, SystemdSyntaxIsAClearErrorAndLeavesNothing) {
    try {
        Manager::create("system.slice:husk:cgroup-it", "x", nullptr);
        ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("systemd"), std::string::npos) << e.what();
    }
}

TEST(CgroupLifecycle, RelativePathIsUnderOwnCgroup) {
    auto layout = runtime::cgroup::detect_layout();
    const std::string rel = fmt::format("cgroup-it-rel-{}", ::getpid());
    auto mgr = Manager::create(rel, "rel", nullptr);
    for (const auto& m : layout.v1) {
        std::string own = layout.own.at(m.controllers.front());
        std::string want = m.mountpoint + (own == "/" ? "" : own) + "/" + rel;
        EXPECT_EQ(mgr->dir_of(m.controllers.front()), want);
    }
    mgr->destroy();
    for (const auto& d : mgr->dirs()) EXPECT_FALSE(exists(d)) << d;
}

TEST(CgroupLifecycle, CloneIntoFdOnlyWithoutV1) {
    auto layout = runtime::cgroup::detect_layout();
    auto mgr = Manager::create(test_path("clone"), "clone", nullptr);
    if (!layout.v1.empty()) {
        EXPECT_EQ(mgr->clone_into_fd(), -1);
    } else {
        EXPECT_GE(mgr->clone_into_fd(), 0);
    }
    mgr->destroy();
}

TEST(CgroupLifecycle, HybridJoinsCgroup2OnlyWhenNeeded) {
    auto layout = runtime::cgroup::detect_layout();
    if (!layout.v2 || !layout.v1_mount("freezer"))
        GTEST_SKIP() << "not a hybrid host with a v1 freezer";
    auto plain = Manager::create(test_path("plain"), "plain", nullptr);
    EXPECT_EQ(plain->dir_of(""), "");
    EXPECT_FALSE(exists(layout.v2->mountpoint + test_path("plain")));
    plain->destroy();
    oci::Resources r;
    r.unified["cgroup.max.depth"] = "2";
    auto joined = Manager::create(test_path("joined"), "joined", &r);
    EXPECT_EQ(joined->dir_of(""), layout.v2->mountpoint + test_path("joined"));
    joined->destroy();
}

}  // namespace
}  // namespace husk::cgtest
