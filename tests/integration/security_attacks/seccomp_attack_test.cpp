// seccomp inside real containers: an errno rule, docker's default profile against the
// syscalls container escapes start with, and SCMP_ACT_NOTIFY reaching an agent.
#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

#include "attack_util.h"

using namespace husk::test;
using namespace husk::test::attack;
using nlohmann::json;

namespace {

json deny_mkdir(const char* action, int errno_ret = 0) {
    json rule = {{"names", {"mkdir", "mkdirat"}}, {"action", action}};
    if (errno_ret) rule["errnoRet"] = errno_ret;
    return {{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", {rule}}};
}

json default_profile() {
    std::ifstream f(HUSK_SECCOMP_DEFAULT);
    return json::parse(f);
}

json attacker_syscalls(Bundle& b) {
    std::system(("cp '" + attacker_bin() + "' '" + b.rootfs() + "/bin/husk-attacker'").c_str());
    b.args({"/bin/husk-attacker", "syscalls"});
    return run_probe(b);
}

}  // namespace

TEST(SecurityAttackSeccomp, DeniedMkdirFailsWithTheRequestedErrnoInBothLoadOrders) {
    Bundle b("sectests-scmkdir");
    b.args({"/bin/husk-probe", "mkdir", "/tmp/new"});
    for (bool nnp : {true, false}) {
        b.config["process"]["noNewPrivileges"] = nnp;
        b.config["linux"]["seccomp"] = deny_mkdir("SCMP_ACT_ERRNO", EACCES);
        b.save();
        json r = run_probe(b);
        EXPECT_EQ(r["ok"], false) << "noNewPrivileges=" << nnp;
        EXPECT_EQ(r["errno"], EACCES) << "noNewPrivileges=" << nnp << ": " << r.dump();
    }
    // Control: without the filter mkdir works.
    b.config["linux"].erase("seccomp");
    b.save();
    EXPECT_EQ(run_probe(b)["ok"], true);
}

TEST(SecurityAttackSeccomp, DefaultProfileBlocksUnshareKeyctlAndMount) {
    Bundle b("sectests-scdefault");
    // Control first: without seccomp an unprivileged container process can create a user
    // namespace and join a keyring, so the EPERMs below come from the profile.
    json free = attacker_syscalls(b);
    if (free["unshare_user"] != 0)
        GTEST_SKIP() << "user namespaces unavailable here: " << free.dump();
    EXPECT_EQ(free["keyctl"], 0) << free.dump();
    for (bool nnp : {true, false}) {
        b.config["process"]["noNewPrivileges"] = nnp;
        b.config["linux"]["seccomp"] = default_profile();
        b.save();
        json r = attacker_syscalls(b);
        EXPECT_EQ(r["unshare_user"], EPERM) << "noNewPrivileges=" << nnp << ": " << r.dump();
        EXPECT_EQ(r["unshare_ns"], EPERM) << r.dump();
        EXPECT_EQ(r["keyctl"], EPERM) << r.dump();
        EXPECT_EQ(r["mount"], EPERM) << r.dump();
    }
}

namespace {

// A seccomp agent at listenerPath: receives the notify fd with the container's state,
// then answers every notification with -EROFS.
struct Agent {
    std::string path;
    int listener = -1;
    std::thread t;
    std::string state;
    std::atomic<int> answered{0};
    std::atomic<bool> stop{false};

    explicit Agent(const std::string& p) : path(p) {
        listener = listen_unix(path);
        if (listener < 0) ADD_FAILURE() << "agent socket " << path;
        t = std::thread([this] { serve(); });
    }
    ~Agent() {
        stop = true;
        ::shutdown(listener, SHUT_RDWR);
        ::close(listener);
        t.join();
    }

    void serve() {
        int fd = accept_fd(listener, &state);
        if (fd < 0) return;
        seccomp_notif_sizes sizes{};
        ::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes);
        std::vector<char> req(std::max<size_t>(sizes.seccomp_notif, sizeof(seccomp_notif)));
        std::vector<char> resp(
            std::max<size_t>(sizes.seccomp_notif_resp, sizeof(seccomp_notif_resp)));
        while (!stop) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            if (p.revents & (POLLHUP | POLLERR)) break;
            std::fill(req.begin(), req.end(), 0);
            auto* rq = reinterpret_cast<seccomp_notif*>(req.data());
            if (::ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, rq) != 0) continue;
            std::fill(resp.begin(), resp.end(), 0);
            auto* rs = reinterpret_cast<seccomp_notif_resp*>(resp.data());
            rs->id = rq->id;
            rs->error = -EROFS;
            if (::ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, rs) == 0) ++answered;
        }
        ::close(fd);
    }
};

}  // namespace

TEST(SecurityAttackSeccomp, NotifyReachesTheListenerWhichAnswers) {
    Bundle b("sectests-scnotify");
    Agent agent(b.dir() + "/agent.sock");
    json sc = deny_mkdir("SCMP_ACT_NOTIFY");
    sc["listenerPath"] = agent.path;
    sc["listenerMetadata"] = "sectests-meta";
    b.config["linux"]["seccomp"] = sc;
    b.args({"/bin/husk-probe", "mkdir", "/tmp/new"});
    std::string id = b.id();
    Result r = b.runtime({"run", "--bundle", b.dir(), id});
    ASSERT_EQ(r.status, 1) << r.err << r.out;  // the probe exits 1 when mkdir fails
    json res = last_json_line(r.out);
    EXPECT_EQ(res["errno"], EROFS)
        << "the agent's answer did not reach the container: " << res.dump();
    EXPECT_GE(agent.answered.load(), 1);
    ASSERT_FALSE(agent.state.empty());
    json st = json::parse(agent.state);
    EXPECT_EQ(st["metadata"], "sectests-meta");
    EXPECT_EQ(st["state"]["id"], id);
}
