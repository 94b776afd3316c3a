// The crash-consistency bugs of issue 14, each at the moment that showed it (the random
// kills of kill_test.cpp find them too, but not every run).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "harness.h"
#include "leftovers.h"

using namespace husk::test;
using namespace std::chrono_literals;

namespace {

constexpr int kBound = 60;  // seconds

std::vector<std::string> runtime(const Bundle& b, std::vector<std::string> args) {
    args.insert(args.begin(), {runtime_bin(), "--root", b.state_root()});
    return args;
}

// An engine's lock fd reaches the init through the fork that creates it: while the init
// waits for `start`, it must hold no fd of its caller's, or the lock outlives its owner.
TEST(CreatedInit, HoldsNoFdOfItsCaller) {
    Bundle b("fds");
    b.args({"/bin/sleep", "100"});
    std::string lock_path = b.dir() + "/engine.lock";
    // An fd without O_CLOEXEC holding an OFD lock, as a caller's fd reaches the runtime.
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT, 0600);
    ASSERT_GE(fd, 0);
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    ASSERT_EQ(::fcntl(fd, F_OFD_SETLK, &fl), 0);
    std::string id = b.id();
    auto c = run(runtime(b, {"create", "--bundle", b.dir(), "--pid-file", b.dir() + "/pid", id}),
                 kBound);
    ::close(fd);  // ours gone: only a copy in another process could still hold the lock
    ASSERT_EQ(c.status, 0) << c.err;
    std::string pid = read_file(b.dir() + "/pid");

    std::vector<std::string> fds;
    const std::string fd_dir = "/proc/" + pid + "/fd/";
    for (auto& e : list_dir(fd_dir)) {
        if (std::stoi(e) <= 2) continue;
        char target[4096] = {};
        std::string link = fd_dir;
        link += e;
        ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
        std::string shown = e;
        shown += " -> ";
        shown += n > 0 ? target : "?";
        fds.push_back(shown);
    }
    ASSERT_EQ(fds.size(), 1u) << "the waiting init holds more than its exec fifo";
    EXPECT_NE(fds[0].find("exec.fifo"), std::string::npos) << fds[0];

    int again = ::open(lock_path.c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(again, 0);
    EXPECT_EQ(::fcntl(again, F_OFD_SETLK, &fl), 0) << "the caller's lock is held by the init";
    ::close(again);
}

// A create killed while its init waits (here on a createRuntime hook): the cgroup and the
// init exist; delete --force finds them in the state directory and removes them.
TEST(DeleteForce, RemovesWhatAKilledCreateLeft) {
    Bundle b("halfmade");
    b.args({"/bin/sleep", "100"});
    std::string marker = b.dir() + "/hook-ran";
    b.config["hooks"]["createRuntime"] = {
        {{"path", "/bin/sh"}, {"args", {"sh", "-c", "touch " + marker + "; exec sleep 5"}}}};
    b.save();
    std::string id = b.id();
    {
        Child create(runtime(b, {"create", "--bundle", b.dir(), id}), b.dir() + "/create.log");
        ASSERT_TRUE(wait_for_file(marker, 30)) << read_file(b.dir() + "/create.log");
        create.kill();
    }
    std::string state_file = b.state_root() + "/" + id + "/state.json";
    ASSERT_TRUE(exists(state_file)) << "nothing recorded of the half-made container";
    auto state = nlohmann::json::parse(read_file(state_file));
    pid_t init = state.at("pid").get<int>();
    ASSERT_GT(init, 0) << "the init's pid is recorded before it goes on";
    EXPECT_FALSE(cgroups_named("/" + id).empty()) << "the cgroup was made";

    auto d = run(runtime(b, {"delete", "--force", id}), kBound);
    ASSERT_FALSE(d.timed_out()) << "delete --force hangs";
    EXPECT_EQ(d.status, 0) << d.err;
    EXPECT_FALSE(exists(b.state_root() + "/" + id));
    EXPECT_TRUE(cgroups_named("/" + id).empty());
    bool gone = false;
    for (int i = 0; i < 500 && !gone; ++i, std::this_thread::sleep_for(10ms)) gone = !alive(init);
    EXPECT_TRUE(gone) << "the init of the killed create lives on";
}

// What delete --force cannot remove is named, with a non-zero exit, and the state
// directory stays for another try (here a mount inside it).
TEST(DeleteForce, NamesWhatItCouldNotRemove) {
    Bundle b("unremovable");
    b.args({"/bin/sleep", "100"});
    std::string id = b.id();
    auto c = run(runtime(b, {"create", "--bundle", b.dir(), id}), kBound);
    ASSERT_EQ(c.status, 0) << c.err;
    std::string busy = b.state_root() + "/" + id + "/busy";
    ASSERT_EQ(::mkdir(busy.c_str(), 0700), 0);
    ASSERT_EQ(::mount("tmpfs", busy.c_str(), "tmpfs", 0, nullptr), 0);

    auto d = run(runtime(b, {"delete", "--force", id}), kBound);
    ASSERT_FALSE(d.timed_out()) << "delete --force hangs";
    EXPECT_NE(d.status, 0) << d.err;
    EXPECT_NE(d.err.find(busy), std::string::npos) << d.err;
    EXPECT_NE(d.err.find("could not remove"), std::string::npos) << d.err;
    EXPECT_TRUE(cgroups_named("/" + id).empty()) << "the cgroup goes all the same";

    ASSERT_EQ(::umount(busy.c_str()), 0);
    auto again = run(runtime(b, {"delete", "--force", id}), kBound);
    ASSERT_FALSE(again.timed_out()) << "delete --force hangs";
    EXPECT_EQ(again.status, 0) << again.err;
    EXPECT_FALSE(exists(b.state_root() + "/" + id));
}

// `husk start` killed between create and start: its init waits on the exec fifo. `husk
// start` and `husk rm -f` must not block on the record's lock (the init used to hold it).
TEST(InterruptedStart, StartAndRmForceStillFinish) {
    if (::access("/bin/busybox", X_OK) != 0)
        GTEST_SKIP() << "busybox-static is not installed (scripts/deps.sh installs it)";
    TempDir work("interrupted");
    std::string root = work.path() + "/root";
    auto husk = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {husk_bin(), "--root", root});
        return args;
    };
    auto img = run({"/bin/bash", std::string(HUSK_SRC) + "/scripts/make-busybox-image.sh", "--root",
                    root, "--husk", husk_bin()},
                   300);
    ASSERT_EQ(img.status, 0) << img.err;
    auto c = run(husk({"create", "--network", "none", "husk/busybox", "sleep", "100"}), kBound);
    ASSERT_EQ(c.status, 0) << c.err;
    std::string id = c.out.substr(0, c.out.find('\n'));

    auto interrupt_start = [&] {
        Child start(husk({"start", id}), work.path() + "/start.log");
        // the init made and recorded, not started yet: the exec fifo is there until start
        std::string state = root + "/run/" + id;
        bool waiting = false;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kBound);
        while (!waiting && std::chrono::steady_clock::now() < deadline) {
            std::string text = exists(state + "/exec.fifo") ? read_file(state + "/state.json") : "";
            waiting = text.find("\"pid\":0") == std::string::npos && !text.empty();
            if (!waiting) std::this_thread::sleep_for(100us);
        }
        ASSERT_TRUE(waiting) << read_file(work.path() + "/start.log");
        start.kill();
    };
    interrupt_start();
    auto s = run(husk({"start", id}), kBound);
    ASSERT_FALSE(s.timed_out()) << "husk start after an interrupted start hangs";
    EXPECT_EQ(s.status, 0) << s.err;
    auto ps = run(husk({"inspect", "-f", "{{.State.Status}}", id}), kBound);
    EXPECT_EQ(ps.out, "running\n") << ps.err;

    auto stop = run(husk({"stop", "-t", "0", id}), kBound);
    ASSERT_EQ(stop.status, 0) << stop.err;
    interrupt_start();
    auto rm = run(husk({"rm", "-f", id}), kBound);
    ASSERT_FALSE(rm.timed_out()) << "husk rm -f after an interrupted start hangs";
    EXPECT_EQ(rm.status, 0) << rm.err;
    EXPECT_FALSE(exists(root + "/containers/" + id));
    EXPECT_FALSE(exists(root + "/run/" + id));
    EXPECT_TRUE(cgroups_named("/" + id).empty());
}

}  // namespace
