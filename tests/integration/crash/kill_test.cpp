// Crash consistency (issue 14, "killed at the wrong moment"): husk-runtime, husk and
// husk-monitor killed with SIGKILL at random moments spread over their normal duration;
// then what engines and users do to clean up (`husk-runtime delete --force`, `husk rm
// -f`) must finish (a hang is its own failure, never taken for a result), succeed, and
// leave nothing: no state directory or record, no cgroup in any hierarchy this host
// mounts, no mount, no process; on the bridge network no netns pin, veth or address
// lease. HUSK_CRASH_SEED=N replays a run (each test prints its seed).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include "harness.h"
#include "leftovers.h"

using namespace husk::test;
using namespace std::chrono_literals;
using std::chrono::microseconds;
using Clock = std::chrono::steady_clock;

namespace {

// The containers' command: `sleep 7391`, found by its argument among the host's processes.
const std::string kSleep = "7391";
// A cleanup still running after this hangs (it is reported as such, never as a result).
constexpr int kBound = 60;  // seconds

std::mt19937 seeded_rng() {
    const char* env = std::getenv("HUSK_CRASH_SEED");
    unsigned seed =
        env ? static_cast<unsigned>(std::strtoul(env, nullptr, 10)) : std::random_device{}();
    std::cout << "HUSK_CRASH_SEED=" << seed << "\n";
    return std::mt19937(seed);
}

microseconds random_moment(std::mt19937& rng, microseconds span) {
    std::uniform_int_distribution<long> d(0, span.count());
    return microseconds(d(rng));
}

microseconds since(Clock::time_point t) {
    return std::chrono::duration_cast<microseconds>(Clock::now() - t);
}

std::string lines(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += "\n  " + s;
    return out;
}

// A SIGKILLed process is gone at once, but its orphans (an init whose runtime died before
// telling it to go on) exit on their own: processes matching `needle`, waited for
// (bounded) to be gone.
std::vector<std::string> lingering(const std::string& needle) {
    std::vector<std::string> left;
    for (int i = 0; i < 750; ++i) {
        left = processes_with(needle);
        if (left.empty()) break;
        std::this_thread::sleep_for(20ms);
    }
    return left;
}

// Runs argv and kills it at `moment`; true when the kill found it still running (one
// done by then is just reaped).
bool kill_at(const std::vector<std::string>& argv, const std::string& log, microseconds moment) {
    Child c(argv, log);
    std::this_thread::sleep_for(moment);
    c.kill();
    EXPECT_TRUE(c.wait(10s)) << "a SIGKILLed process was not reaped";
    return c.status() == 128 + SIGKILL;
}

// Most kills must land while the command runs: were they all after its end (a slower
// or faster machine than the measured span says), the test would check nothing.
void expect_mostly_mid_run(int mid_run, int rounds) {
    EXPECT_GE(mid_run * 3, rounds)
        << "only " << mid_run << " of " << rounds << " kills landed while the command ran";
    std::cout << mid_run << " of " << rounds << " kills landed while the command ran\n";
}

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

// ---- husk-runtime ------------------------------------------------------------------------

struct Runtime {
    Bundle b{"kill-rt"};
    std::vector<std::string> operator()(std::vector<std::string> args) const {
        args.insert(args.begin(), {runtime_bin(), "--root", b.state_root()});
        return args;
    }
    std::vector<std::string> create(const std::string& id) const {
        return (*this)({"create", "--bundle", b.dir(), id});
    }

    // `delete --force` finishes, succeeds, and nothing of `id` is left.
    void deleted(const std::string& id, const std::string& what) const {
        auto d = run((*this)({"delete", "--force", id}), kBound);
        ASSERT_FALSE(d.timed_out())
            << what << ": `delete --force` hangs (still running after 60 s)";
        EXPECT_EQ(d.status, 0) << what << ": " << d.err;
        EXPECT_FALSE(exists(b.state_root() + "/" + id)) << what << ": its state directory is left";
        auto cgroups = cgroups_named("/" + id);
        EXPECT_TRUE(cgroups.empty()) << what << ": cgroups left:" << lines(cgroups);
        // husk-runtime and an init that never exec'd name the state root in their argv
        auto procs = lingering(b.state_root());
        EXPECT_TRUE(procs.empty()) << what << ": processes left:" << lines(procs);
        procs = lingering("sleep " + kSleep);
        EXPECT_TRUE(procs.empty()) << what << ": container processes left:" << lines(procs);
        auto mounts = mounts_under(b.dir());
        EXPECT_TRUE(mounts.empty()) << what << ": mounts left:" << lines(mounts);
    }
};

// create, start and run (a third of `rounds_wanted` each) killed at a random moment;
// `delete --force` after each must leave nothing.
void kill_runtime_verbs(Runtime& rt, int rounds_wanted) {
    auto rng = seeded_rng();
    const std::string log = rt.b.dir() + "/killed.log";
    // How long each command takes when nothing kills it (the median of three: the first is
    // slower, with cold caches): the moments are spread over that.
    std::vector<microseconds> creates, starts;
    std::string id;
    for (int i = 0; i < 3; ++i) {
        id = rt.b.id();
        auto t = Clock::now();
        auto c = run(rt.create(id), kBound);
        ASSERT_EQ(c.status, 0) << c.err;
        creates.push_back(since(t));
        t = Clock::now();
        auto s = run(rt({"start", id}), kBound);
        ASSERT_EQ(s.status, 0) << s.err;
        starts.push_back(since(t));
        rt.deleted(id, "an unkilled container");
    }
    std::sort(creates.begin(), creates.end());
    std::sort(starts.begin(), starts.end());
    const microseconds create_span = creates[1], start_span = starts[1];

    int rounds = 0, mid_run = 0;
    for (int round = 0; round < rounds_wanted && !::testing::Test::HasFailure();
         ++round, ++rounds) {  // a third of each
        id = rt.b.id();
        std::vector<std::string> argv;
        microseconds span{};
        switch (round % 3) {
            case 0:
                argv = rt.create(id);
                span = create_span;
                break;
            case 1: {
                auto made = run(rt.create(id), kBound);
                ASSERT_EQ(made.status, 0) << made.err;
                argv = rt({"start", id});
                span = start_span;
                break;
            }
            default:
                argv = rt({"run", "--bundle", rt.b.dir(), id});
                span = create_span + start_span;
        }
        microseconds moment = random_moment(rng, span + span / 4);  // a few after the end
        std::string what = "round " + std::to_string(round) + ": `" + argv[3] + "` killed after " +
                           std::to_string(moment.count()) + " us of ~" +
                           std::to_string(span.count());
        mid_run += kill_at(argv, log, moment) ? 1 : 0;
        rt.deleted(id, what);
    }
    expect_mostly_mid_run(mid_run, rounds);
}

TEST(KilledAtRandom, RuntimeCreateStartRunThenDeleteForceLeavesNothing) {
    Runtime rt;
    rt.b.args({"/bin/sleep", kSleep});
    kill_runtime_verbs(rt, 60);
}

// --proc-virtualize (runtime/procvirt.h): its files in the state directory, its server and
// standby (forks of husk-runtime: `deleted` finds them by the state root in their argv).
TEST(KilledAtRandom, RuntimeWithProcVirtualizeThenDeleteForceLeavesNothing) {
    Runtime rt;
    rt.b.config["annotations"]["run.oci.husk.proc-virtualize"] = "true";
    rt.b.config["linux"]["resources"]["memory"] = {{"limit", 256 << 20}};
    rt.b.args({"/bin/sleep", kSleep});
    {  // the bundle does get a server and a standby (else this would test nothing of them)
        std::string id = rt.b.id();
        auto c = run(rt.create(id), kBound);
        ASSERT_EQ(c.status, 0) << c.err;
        ASSERT_TRUE(exists(rt.b.state_root() + "/" + id + "/procvirt/standby.pid"));
        rt.deleted(id, "an unkilled container");
    }
    kill_runtime_verbs(rt, 30);
}

// ---- husk ----------------------------------------------------------------------------------

// A private data root holding husk/busybox.
struct Husk {
    TempDir work{"kill-husk"};
    std::string root = work.path() + "/root";
    std::string log = work.path() + "/killed.log";
    Husk() = default;
    Husk(const Husk&) = delete;
    Husk& operator=(const Husk&) = delete;
    ~Husk() {  // after a failure: nothing of ours stays on the host
        for (auto& id : containers()) run((*this)({"rm", "-f", id}), 20);
        for (auto& p : processes_with(root)) ::kill(std::stoi(p), SIGKILL);
    }

    // the bridge network is made in-process (netlink, nftables): a kernel with them
    bool bridge = ::access("/proc/sys/net/ipv4/ip_forward", F_OK) == 0;

    std::vector<std::string> operator()(std::vector<std::string> args) const {
        args.insert(args.begin(), {husk_bin(), "--root", root});
        return args;
    }
    std::vector<std::string> run_d(const std::string& network,
                                   const std::string& seconds = kSleep) const {
        return (*this)({"run", "-d", "--network", network, "husk/busybox", "sleep", seconds});
    }
    std::string make_image() const {
        auto r = run({"/bin/bash", std::string(HUSK_SRC) + "/scripts/make-busybox-image.sh",
                      "--root", root, "--husk", husk_bin()},
                     300);
        return r.status == 0 ? "" : "make-busybox-image.sh: " + r.err;
    }
    std::vector<std::string> containers() const {
        std::vector<std::string> ids;
        for (auto& e : list_dir(root + "/containers"))
            if (e[0] != '.') ids.push_back(e);
        return ids;
    }
    // The host side of a container's veth, from its endpoint record ("" when none).
    std::string host_veth(const std::string& id) const {
        std::ifstream f(root + "/containers/" + id + "/network.json");
        if (!f) return "";
        try {
            auto j = nlohmann::json::parse(f);
            if (j.contains("host_veth")) return j.value("host_veth", "");
            for (auto& i : j.at("result").at("interfaces"))
                if (!i.contains("sandbox") && i.value("name", "") != "husk0")
                    return i.value("name", "");
        } catch (const std::exception&) {
        }
        return "";
    }

    // `husk rm -f` of every container finishes and succeeds, and nothing of them is left.
    void removed_all(const std::string& what) const {
        auto ids = containers();
        std::vector<std::string> veths;
        for (auto& id : ids) {
            if (auto v = host_veth(id); !v.empty()) veths.push_back(v);
            auto r = run((*this)({"rm", "-f", id}), kBound);
            ASSERT_FALSE(r.timed_out())
                << what << ": `husk rm -f` hangs (still running after 60 s)";
            EXPECT_EQ(r.status, 0) << what << ": " << r.err;
        }
        auto left = containers();
        EXPECT_TRUE(left.empty()) << what << ": records left:" << lines(left);
        // (a .new-* staging directory of an add killed halfway goes with the next add)
        for (auto& e : list_dir(root + "/run"))
            EXPECT_EQ(e[0], '.') << what << ": runtime state left: " << e;
        for (auto& e : list_dir(root + "/run/.netns"))
            EXPECT_EQ(e, ".lock") << what << ": network namespace pin left: " << e;
        for (auto& e : list_dir(root + "/rootfs"))
            ADD_FAILURE() << what << ": root filesystem left: " << e;
        auto mounts = mounts_under(root + "/");
        EXPECT_TRUE(mounts.empty()) << what << ": mounts left:" << lines(mounts);
        for (auto& id : ids) {
            auto cgroups = cgroups_named("/" + id);
            EXPECT_TRUE(cgroups.empty()) << what << ": cgroups left:" << lines(cgroups);
            for (auto& lease : list_dir("/var/lib/cni/networks/husk")) {
                std::ifstream f("/var/lib/cni/networks/husk/" + lease);
                std::string owner;  // host-local writes "ID\r\nIFNAME"
                std::getline(f, owner);
                if (!owner.empty() && owner.back() == '\r') owner.pop_back();
                EXPECT_NE(owner, id) << what << ": address lease left: " << lease;
            }
        }
        for (auto& v : veths)
            EXPECT_FALSE(exists("/sys/class/net/" + v)) << what << ": veth left: " << v;
        auto procs = lingering(root);  // monitors, cleanups, inits that never exec'd
        EXPECT_TRUE(procs.empty()) << what << ": processes left:" << lines(procs);
        procs = lingering("sleep " + kSleep);
        EXPECT_TRUE(procs.empty()) << what << ": container processes left:" << lines(procs);
    }
};

TEST(KilledAtRandom, HuskRunCreateStartThenRmForceLeavesNothing) {
    if (::access("/bin/busybox", X_OK) != 0)
        GTEST_SKIP() << "busybox-static is not installed (scripts/deps.sh installs it)";
    auto rng = seeded_rng();
    Husk h;
    ASSERT_EQ(h.make_image(), "");
    auto t = Clock::now();
    auto r = run(h.run_d("none"), kBound);
    ASSERT_EQ(r.status, 0) << r.err;
    const microseconds run_span = since(t);
    t = Clock::now();
    auto c = run(h({"create", "--network", "none", "husk/busybox", "sleep", kSleep}), kBound);
    ASSERT_EQ(c.status, 0) << c.err;
    const microseconds create_span = since(t);
    t = Clock::now();
    auto s = run(h({"start", trimmed(c.out)}), kBound);
    ASSERT_EQ(s.status, 0) << s.err;
    const microseconds start_span = since(t);
    microseconds bridge_span{};
    if (h.bridge) {
        t = Clock::now();
        auto b = run(h.run_d("bridge"), kBound);
        ASSERT_EQ(b.status, 0) << b.err;
        bridge_span = since(t);
    } else {
        std::cout << "no IPv4 networking in this kernel: every round uses --network none\n";
    }
    h.removed_all("unkilled containers");

    int rounds = 0, mid_run = 0;
    for (int round = 0; round < 60 && !HasFailure(); ++round, ++rounds) {  // 20 of each
        std::vector<std::string> argv;
        microseconds span{};
        std::string verb;
        switch (round % 3) {
            case 0: {  // the default bridge in some rounds
                bool on_bridge = h.bridge && round % 9 == 0;
                argv = h.run_d(on_bridge ? "bridge" : "none");
                span = on_bridge ? bridge_span : run_span;
                verb = on_bridge ? "run -d (bridge)" : "run -d";
                break;
            }
            case 1:
                argv = h({"create", "--network", "none", "husk/busybox", "sleep", kSleep});
                span = create_span;
                verb = "create";
                break;
            default: {
                auto made = run(h({"create", "--network", "none", "husk/busybox", "sleep", kSleep}),
                                kBound);
                ASSERT_EQ(made.status, 0) << made.err;
                argv = h({"start", trimmed(made.out)});
                span = start_span;
                verb = "start";
            }
        }
        microseconds moment = random_moment(rng, span + span / 4);
        std::string what = "round " + std::to_string(round) + ": `husk " + verb +
                           "` killed after " + std::to_string(moment.count()) + " us of ~" +
                           std::to_string(span.count());
        mid_run += kill_at(argv, h.log, moment) ? 1 : 0;
        h.removed_all(what);
    }
    expect_mostly_mid_run(mid_run, rounds);
}

// ---- husk-monitor --------------------------------------------------------------------------

long pidfd_open(pid_t pid) {
    return ::syscall(SYS_pidfd_open, pid, 0);
}

// The monitor of the one container under `root` (its argv names the data root), once it
// is there; -1 when `client` ended without one appearing.
pid_t find_monitor(const std::string& root, Child& client) {
    auto deadline = Clock::now() + std::chrono::seconds(kBound);
    while (Clock::now() < deadline) {
        for (auto& p : processes_with(root))
            if (p.find("husk-monitor") != std::string::npos) return std::stoi(p);
        // the client returns once the monitor reported the init: a little grace after that
        if (client.wait(0ms)) deadline = std::min(deadline, Clock::now() + 500ms);
        std::this_thread::sleep_for(100us);
    }
    return -1;
}

TEST(KilledAtRandom, MonitorThenRmForceLeavesNothing) {
    if (::access("/bin/busybox", X_OK) != 0)
        GTEST_SKIP() << "busybox-static is not installed (scripts/deps.sh installs it)";
    auto rng = seeded_rng();
    Husk h;
    ASSERT_EQ(h.make_image(), "");
    // The container lives a little while: the moments cover the monitor creating it,
    // watching it, and recording its exit (the cleanup it execs, under the same pid).
    const std::string lifetime = "0.3";
    auto t = Clock::now();
    auto r = run(h({"run", "--network", "none", "husk/busybox", "sleep", lifetime}), kBound);
    ASSERT_EQ(r.status, 0) << r.err;
    const microseconds span = since(t) + std::chrono::milliseconds(100);
    h.removed_all("an unkilled container");

    int rounds = 0, mid_run = 0;
    for (int round = 0; round < 50 && !HasFailure(); ++round, ++rounds) {
        Child client(h.run_d("none", lifetime), h.log);
        pid_t monitor = find_monitor(h.root, client);
        ASSERT_GT(monitor, 0) << "round " << round << ": no monitor appeared";
        long pidfd = pidfd_open(monitor);  // a pid that ends is not taken for another
        microseconds moment = random_moment(rng, span);
        std::this_thread::sleep_for(moment);
        if (pidfd >= 0) {
            if (::syscall(SYS_pidfd_send_signal, static_cast<int>(pidfd), SIGKILL, nullptr, 0) == 0)
                ++mid_run;
            ::close(static_cast<int>(pidfd));
        }
        std::string what = "round " + std::to_string(round) + ": the monitor killed after " +
                           std::to_string(moment.count()) + " us of ~" +
                           std::to_string(span.count());
        ASSERT_TRUE(client.wait(std::chrono::seconds(kBound))) << what << ": `husk run -d` hangs";
        h.removed_all(what);
    }
    expect_mostly_mid_run(mid_run, rounds);
}

}  // namespace
