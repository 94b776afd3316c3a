// seccomp against the real kernel: forked children install compiled profiles
// in both load orders and show what the filter does to their syscalls.
#include <fcntl.h>
#include <linux/keyctl.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "child.h"
#include "runtime/security/capabilities.h"
#include "runtime/security/defaults.h"
#include "runtime/security/seccomp.h"
#include "sys/fd.h"
#include "sys/unix_socket.h"

namespace sec = husk::runtime::security;
namespace fs = std::filesystem;
using husk::test::drop_to;
using husk::test::exec_cat_status;
using husk::test::parse_lines;
using husk::test::report;
using husk::test::run_child;

namespace {

class SeccompIntegration : public ::testing::Test {
  protected:
    void SetUp() override {
        if (geteuid() != 0) GTEST_SKIP() << "needs root";
        char tmpl[] = "/tmp/security-seccomp-it-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override {
        if (!dir_.empty()) fs::remove_all(dir_);
    }
    std::string dir_;
};

// -errno of a raw syscall result, or the result itself.
long sys_result(long rc) {
    return rc < 0 ? -errno : rc;
}

sec::CapSets default_caps() {
    husk::oci::Capabilities c;
    c.bounding = c.effective = c.permitted = sec::default_capabilities();
    return sec::parse_capabilities(c);
}

// Syscalls docker's profile keeps from an unprivileged container, and a few it allows.
void probe_default_profile(int out, const std::string& dir) {
    report(out, "unshare_user", sys_result(unshare(CLONE_NEWUSER)));
    report(out, "unshare_ns", sys_result(unshare(CLONE_NEWNS)));
    report(out, "keyctl",
           sys_result(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0)));
    std::string target = dir + "/mnt";
    report(out, "mount", sys_result(mount("none", target.c_str(), "tmpfs", 0, nullptr)));
    report(out, "clone_newuser",
           sys_result(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)));
    clone_args ca{};
    ca.exit_signal = SIGCHLD;
    report(out, "clone3", sys_result(syscall(SYS_clone3, &ca, sizeof ca)));
    report(out, "socket_vsock", sys_result(socket(AF_VSOCK, SOCK_STREAM, 0)));
    report(out, "socket_unix", sys_result(socket(AF_UNIX, SOCK_STREAM, 0)) >= 0 ? 0 : -1);
    report(out, "personality_query", sys_result(personality(0xffffffff)) >= 0 ? 0 : -1);
    report(out, "personality_bsd", sys_result(personality(0x0006 /* PER_BSD */)));
    pid_t pid = fork();  // clone without namespace flags
    if (pid == 0) _exit(0);
    int st = 0;
    report(out, "fork", pid > 0 && waitpid(pid, &st, 0) == pid && st == 0 ? 0 : -1);
    std::string made = dir + "/made";
    report(out, "mkdir", sys_result(mkdir(made.c_str(), 0700)));
}

}  // namespace

TEST_F(SeccompIntegration, DenyMkdirFailsWithTheAskedErrno) {
    auto prog = sec::compile_seccomp(sec::parse_seccomp_json(R"({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]})"));
    std::string target = dir_ + "/denied";
    auto r = run_child([&](int out) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 2;
        if (sec::install_seccomp(prog) != 0) return 3;
        report(out, "mkdir", sys_result(syscall(SYS_mkdir, target.c_str(), 0700)));
        report(out, "mkdirat", sys_result(mkdirat(AT_FDCWD, target.c_str(), 0700)));
        report(out, "rmdir", sys_result(rmdir(target.c_str())));  // allowed: ENOENT
        return 0;
    });
    ASSERT_TRUE(r.exited_ok()) << r.status;
    auto m = parse_lines(r.output);
    EXPECT_EQ(m["mkdir"], std::to_string(-EACCES));
    EXPECT_EQ(m["mkdirat"], std::to_string(-EACCES));
    EXPECT_EQ(m["rmdir"], std::to_string(-ENOENT));
    EXPECT_FALSE(fs::exists(target));
}

TEST_F(SeccompIntegration, DefaultProfileBlocksUnshareKeyctlMountWithoutSysAdmin) {
    // Control: without the filter, the same unprivileged process may create a
    // user namespace and use keyctl, so the denials below come from the profile.
    auto control = run_child([&](int out) {
        if (int rc = drop_to(default_caps(), 0)) return rc;
        report(
            out, "keyctl",
            sys_result(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0)) > 0
                ? 0
                : -1);
        report(out, "unshare_user", sys_result(unshare(CLONE_NEWUSER)));
        return 0;
    });
    ASSERT_TRUE(control.exited_ok()) << control.status;
    auto c = parse_lines(control.output);
    EXPECT_EQ(c["keyctl"], "0");

    fs::create_directory(dir_ + "/mnt");
    auto prog = sec::compile_seccomp(sec::default_seccomp());
    auto r = run_child([&](int out) {
        // docker's order: no no_new_privs, so the filter goes in while we still
        // hold CAP_SYS_ADMIN, then the capabilities are dropped under it.
        if (sec::install_seccomp(prog) != 0) return 3;
        if (int rc = drop_to(default_caps(), 0)) return rc;
        probe_default_profile(out, dir_);
        return 0;
    });
    ASSERT_TRUE(r.exited_ok()) << r.status << " " << r.output;
    auto m = parse_lines(r.output);
    const std::string eperm = std::to_string(-EPERM);
    EXPECT_EQ(m["unshare_user"], eperm);
    EXPECT_EQ(m["unshare_ns"], eperm);
    EXPECT_EQ(m["keyctl"], eperm);
    EXPECT_EQ(m["mount"], eperm);
    EXPECT_EQ(m["clone_newuser"], eperm);
    EXPECT_EQ(m["clone3"], std::to_string(-ENOSYS));  // libc falls back to clone
    EXPECT_EQ(m["socket_vsock"], eperm);
    EXPECT_EQ(m["socket_unix"], "0");
    EXPECT_EQ(m["personality_query"], "0");
    EXPECT_EQ(m["personality_bsd"], eperm);
    EXPECT_EQ(m["fork"], "0");
    EXPECT_EQ(m["mkdir"], "0");
    if (c["unshare_user"] != "0")
        std::printf("note: unshare(CLONE_NEWUSER) fails here even without the filter (%s)\n",
                    c["unshare_user"].c_str());
}

namespace {

void expect_status_after_exec(const husk::test::ChildResult& r, const char* nnp) {
    ASSERT_TRUE(r.exited_ok()) << "status " << r.status << " " << r.output;
    auto m = parse_lines(r.output);
    EXPECT_EQ(m["Seccomp"], "2");
    EXPECT_EQ(m["NoNewPrivs"], nnp);
    EXPECT_EQ(m["Uid"], "1000\t1000\t1000\t1000");
    auto caps = default_caps();
    EXPECT_EQ(husk::test::hex_mask(m["CapBnd"]), caps.bounding);
    EXPECT_EQ(husk::test::hex_mask(m["CapPrm"]), 0u);  // non-root without ambient: none after exec
    EXPECT_EQ(husk::test::hex_mask(m["CapInh"]), 0u);
}

}  // namespace

// With no_new_privs the filter is loaded last, right before execve.
TEST_F(SeccompIntegration, LoadOrderWithNoNewPrivsFilterLast) {
    auto prog = sec::load_or_compile_seccomp(sec::default_seccomp(), dir_ + "/cache");
    auto r = run_child([&](int out) {
        if (int rc = drop_to(default_caps(), 1000)) return rc;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 30;
        if (sec::install_seccomp(prog) != 0) return 31;
        return exec_cat_status(out);
    });
    expect_status_after_exec(r, "1");
}

// Without no_new_privs (docker's default) seccomp(2) needs CAP_SYS_ADMIN: the
// filter goes in first and capset/setresuid/setgroups/execve still work under it.
TEST_F(SeccompIntegration, LoadOrderWithoutNoNewPrivsFilterFirst) {
    auto prog = sec::load_or_compile_seccomp(sec::default_seccomp(), dir_ + "/cache");
    auto r = run_child([&](int out) {
        const char* step = nullptr;
        if (int rc = sec::install_seccomp(prog, &step); rc != 0) return 40;
        if (int rc = drop_to(default_caps(), 1000)) return rc;
        return exec_cat_status(out);
    });
    expect_status_after_exec(r, "0");
}

// Without no_new_privs and without CAP_SYS_ADMIN the kernel refuses the filter:
// the reason for the order above.
TEST_F(SeccompIntegration, FilterAfterDroppingCapsNeedsNoNewPrivs) {
    auto prog = sec::compile_seccomp(sec::default_seccomp());
    auto r = run_child([&](int out) {
        if (int rc = drop_to(default_caps(), 1000)) return rc;
        const char* step = nullptr;
        report(out, "rc", sec::install_seccomp(prog, &step));
        if (step && write(out, step, strlen(step)) < 0) return 50;
        return 0;
    });
    ASSERT_TRUE(r.exited_ok());
    EXPECT_NE(r.output.find("rc=" + std::to_string(-EACCES)), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("seccomp(SECCOMP_SET_MODE_FILTER)"), std::string::npos);
}

// SCMP_ACT_NOTIFY: the child hands its listener fd to the parent, the parent
// sends it with the container process state to listenerPath, and the agent
// there answers the notification: the child's syscall returns the agent's value.
TEST_F(SeccompIntegration, NotifyReachesListenerThatAnswers) {
    std::string path = dir_ + "/agent.sock";
    husk::sys::UniqueFd agent(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(agent);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    ASSERT_EQ(bind(agent.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(listen(agent.get(), 1), 0);

    auto profile = sec::parse_seccomp_json(fmt::format(R"({{
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": "{}", "listenerMetadata": "security-test",
        "syscalls": [{{"names": ["getppid"], "action": "SCMP_ACT_NOTIFY"}}]}})",
                                                       path));
    auto prog = sec::compile_seccomp(profile);
    ASSERT_TRUE(prog.notify);

    int sync[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync), 0);
    husk::sys::UniqueFd parent_end(sync[0]), child_end(sync[1]);
    int result_pipe[2];
    ASSERT_EQ(pipe2(result_pipe, O_CLOEXEC), 0);
    husk::sys::UniqueFd result_r(result_pipe[0]), result_w(result_pipe[1]);

    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(2);
        int lfd = sec::install_seccomp(prog);
        if (lfd <= 0) _exit(3);
        if (husk::sys::send_fd(child_end.get(), lfd, "L", 1) != 0) _exit(4);
        close(lfd);
        report(result_w.get(), "getppid", syscall(SYS_getppid));
        _exit(0);
    }
    child_end.reset();
    result_w.reset();

    // The runtime's side: take the fd from the child, forward it to the agent.
    husk::sys::UniqueFd listener(husk::sys::recv_fd(parent_end.get()));
    husk::oci::State state;
    state.oci_version = "1.2.0";
    state.id = "security-notify";
    state.status = "creating";
    state.pid = pid;
    state.bundle = dir_;
    state.annotations = {{"org.example", "x"}};
    sec::send_to_listener(prog.listener_path, listener.get(),
                          sec::container_process_state(state, prog.listener_metadata));
    listener.reset();

    // The agent's side.
    husk::sys::UniqueFd conn(accept4(agent.get(), nullptr, nullptr, SOCK_CLOEXEC));
    ASSERT_TRUE(conn);
    std::string payload;
    husk::sys::UniqueFd notify_fd(husk::sys::recv_fd(conn.get(), &payload));
    auto j = nlohmann::json::parse(payload);
    EXPECT_EQ(j["ociVersion"], "1.2.0");
    EXPECT_EQ(j["fds"], nlohmann::json::array({"seccompFd"}));
    EXPECT_EQ(j["pid"], pid);
    EXPECT_EQ(j["metadata"], "security-test");
    EXPECT_EQ(j["state"]["id"], "security-notify");
    EXPECT_EQ(j["state"]["status"], "creating");
    EXPECT_EQ(j["state"]["pid"], pid);
    EXPECT_EQ(j["state"]["annotations"]["org.example"], "x");

    seccomp_notif req{};
    ASSERT_EQ(ioctl(notify_fd.get(), SECCOMP_IOCTL_NOTIF_RECV, &req), 0) << strerror(errno);
    EXPECT_EQ(req.pid, static_cast<uint32_t>(pid));
    EXPECT_EQ(req.data.nr, SYS_getppid);
    seccomp_notif_resp resp{};
    resp.id = req.id;
    resp.val = 4242;
    resp.error = 0;
    ASSERT_EQ(ioctl(notify_fd.get(), SECCOMP_IOCTL_NOTIF_SEND, &resp), 0) << strerror(errno);

    std::string out;
    char buf[256];
    ssize_t n;
    while ((n = read(result_r.get(), buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    int st = 0;
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
    EXPECT_EQ(parse_lines(out)["getppid"], "4242");
}

// docker's multi-architecture filter (x86_64 + x86 + x32) is accepted by the
// kernel. (32-bit syscalls themselves cannot be exercised here: int 0x80 faults
// on this virtual machine even without a filter.)
TEST_F(SeccompIntegration, MultiArchDefaultProfileLoads) {
    auto p = sec::default_seccomp();
    ASSERT_EQ(p.architectures.size(), 3u);
    auto prog = sec::compile_seccomp(p);
    auto r = run_child([&](int) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 2;
        return sec::install_seccomp(prog) == 0 ? 0 : 3;
    });
    EXPECT_TRUE(r.exited_ok()) << r.status;
}

// Every flag of linux.seccomp.flags reaches seccomp(2) in a form the kernel
// accepts, also together with a listener (TSYNC needs TSYNC_ESRCH then).
TEST_F(SeccompIntegration, FlagsAreAcceptedByTheKernel) {
    auto plain = sec::parse_seccomp_json(R"({"defaultAction": "SCMP_ACT_ALLOW",
        "flags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                  "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]})");
    auto notify = sec::parse_seccomp_json(R"({"defaultAction": "SCMP_ACT_ALLOW",
        "flags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
        "listenerPath": "/nonexistent/agent.sock",
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})");
    for (const auto& profile : {plain, notify}) {
        auto prog = sec::compile_seccomp(profile);
        auto r = run_child([&](int out) {
            if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 2;
            report(out, "rc", sec::install_seccomp(prog));
            return 0;
        });
        ASSERT_TRUE(r.exited_ok());
        long rc = std::stol(parse_lines(r.output)["rc"]);
        if (prog.notify)
            EXPECT_GT(rc, 0) << "listener fd";
        else
            EXPECT_EQ(rc, 0);
    }
}
