// CVE-2019-5736 class: a container gets the kernel to execute the runtime's own binary
// (entrypoint "#!/proc/self/exe" while the init's /proc/self/exe is husk-runtime),
// grabs it as an fd, and reopens it for writing once nothing executes it any more:
// the host's runtime binary would be overwritten. Plus the init staying non-dumpable
// until execve, so nothing in the container may ptrace it or open its exe meanwhile.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "attack_util.h"

using namespace husk::test;
using namespace husk::test::attack;
using nlohmann::json;

namespace {

void sh(const std::string& cmd) {
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

// The rootfs gets what the (dynamically linked) runtime binary needs to start inside it,
// the LD_PRELOAD payload, the attacker, and the "#!/proc/self/exe" entrypoint.
void prepare_exe_attack(Bundle& b, const std::string& runtime_copy) {
    sh("for f in $(ldd '" + runtime_copy + "' | grep -o '/[^ ]*'); do cp --parents -L \"$f\" '" +
       b.rootfs() + "'; done");
    sh("cp '" + preload_lib() + "' '" + b.rootfs() + "/evil.so'");
    sh("cp '" + attacker_bin() + "' '" + b.rootfs() + "/bin/husk-attacker'");
    write_file(b.rootfs() + "/evil", "#!/proc/self/exe\n", 0755);
    b.config["process"]["args"] = {"/evil"};
    b.config["process"]["env"].push_back("LD_PRELOAD=/evil.so");
    b.config["process"]["env"].push_back("HUSK_ATTACK_OUT=/tmp/attack.json");
    b.save();
}

// A user namespace mapping the container's root to host uid `host_root`.
void use_user_namespace(Bundle& b, int host_root) {
    b.config["linux"]["namespaces"].push_back({{"type", "user"}});
    b.config["linux"]["uidMappings"] = {
        {{"containerID", 0}, {"hostID", host_root}, {"size", 65536}}};
    b.config["linux"]["gidMappings"] = {
        {{"containerID", 0}, {"hostID", host_root}, {"size", 65536}}};
    // cgroup v1 hierarchies cannot be mounted from a user namespace.
    auto& m = b.config["mounts"];
    for (auto it = m.begin(); it != m.end();) it = (*it)["type"] == "cgroup" ? m.erase(it) : it + 1;
    b.save();
}

void run_exe_attack(Bundle& b, int expected_errno = EROFS) {
    // A private copy of the runtime: the attack must not damage the binary other tests use.
    std::string copy = b.dir() + "/husk-runtime-copy";
    sh("cp '" + runtime_bin() + "' '" + copy + "'");
    std::string before = read_file(copy);
    prepare_exe_attack(b, copy);
    std::string id = b.id();
    auto rt = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {copy, "--root", b.state_root()});
        return run(args);
    };
    auto c = rt({"create", "--bundle", b.dir(), id});
    ASSERT_EQ(c.status, 0) << c.err;
    auto s = rt({"start", id});
    ASSERT_EQ(s.status, 0) << s.err;
    std::string result_path = b.rootfs() + "/tmp/attack.json";
    bool reported = wait_for_file(result_path, 20);
    rt({"delete", "--force", id});
    ASSERT_TRUE(reported)
        << "the payload never ran: the container did not execute the runtime binary";
    json r = json::parse(read_file(result_path));
    EXPECT_FALSE(r["opened"].get<bool>())
        << "the runtime binary was reopened for writing from the container: " << r.dump();
    EXPECT_FALSE(r["wrote"].get<bool>()) << r.dump();
    EXPECT_EQ(r["errno"].get<int>(), expected_errno)
        << "refused for another reason than expected: " << r.dump();
    EXPECT_TRUE(read_file(copy) == before) << "the host's runtime binary was modified";
}

}  // namespace

TEST(SecurityAttackCVE_2019_5736, ProcSelfExeOverwriteOfTheRuntimeBinaryFails) {
    Bundle b("sectests-exe");
    run_exe_attack(b);
}

TEST(SecurityAttackCVE_2019_5736, ProcSelfExeOverwriteFailsInAPrivilegedContainer) {
    Bundle b("sectests-exepriv");
    set_all_caps(b.config, all_capabilities());
    b.config["process"]["noNewPrivileges"] = false;
    b.save();
    run_exe_attack(b);
}

TEST(SecurityAttackCVE_2019_5736, UserNamespaceContainerCannotWriteTheRuntimeBinary) {
    // The runtime skips the read-only re-exec when the container's root is not the
    // binary's owner: there file permissions refuse the write (EACCES), check that.
    Bundle b("sectests-exeuserns");
    ::chmod(b.dir().c_str(), 0755);
    ::chmod((b.rootfs() + "/tmp").c_str(), 01777);
    use_user_namespace(b, 200000);
    run_exe_attack(b, EACCES);
}

namespace {

struct PtraceTry {
    int seize_errno = -1;  // 0 = attached
    int open_exe_errno = -1;
    int open_exe_write_errno = -1;
};

// From a process that joined the container's user namespace (so it holds every
// capability there, CAP_SYS_PTRACE included), try to ptrace `pid` and open its exe.
PtraceTry try_from_userns(pid_t pid) {
    int p[2];
    if (::pipe(p) != 0) return {};
    pid_t c = ::fork();
    if (c == 0) {
        PtraceTry t;
        std::string ns = "/proc/" + std::to_string(pid) + "/ns/user";
        int fd = ::open(ns.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0 || ::setns(fd, CLONE_NEWUSER) != 0) ::_exit(3);
        std::string exe = "/proc/" + std::to_string(pid) + "/exe";
        int e = ::open(exe.c_str(), O_PATH | O_CLOEXEC);
        t.open_exe_errno = e < 0 ? errno : 0;
        int w = ::open(exe.c_str(), O_WRONLY | O_CLOEXEC);
        t.open_exe_write_errno = w < 0 ? errno : 0;
        t.seize_errno = ::ptrace(PTRACE_SEIZE, pid, nullptr, nullptr) == 0 ? 0 : errno;
        (void)!::write(p[1], &t, sizeof t);
        ::_exit(0);  // a tracer that exits detaches
    }
    ::close(p[1]);
    PtraceTry t;
    if (::read(p[0], &t, sizeof t) != sizeof t) t = {};
    ::close(p[0]);
    ::waitpid(c, nullptr, 0);
    return t;
}

}  // namespace

TEST(SecurityAttackDumpable, InitWaitingForStartCannotBePtracedNorItsExeOpened) {
    Bundle b("sectests-dump");
    // Root mapped to root: the init's uid then never changes, so the kernel does not make
    // it non-dumpable by itself (it does on any euid change) and only the runtime's
    // PR_SET_DUMPABLE protects it.
    use_user_namespace(b, 0);
    b.args({"/bin/husk-probe", "sleep", "60"});
    std::string id;
    auto c = create(b, &id);
    if (c.status != 0)
        GTEST_SKIP() << "husk-runtime cannot create a user-namespace container here: " << c.err;
    int pid = json::parse(b.runtime({"state", id}).out)["pid"];

    PtraceTry created = try_from_userns(pid);
    EXPECT_NE(created.seize_errno, 0) << "ptrace attached to the init before execve";
    EXPECT_NE(created.seize_errno, -1) << "the attacker did not run";
    EXPECT_NE(created.open_exe_errno, 0)
        << "/proc/PID/exe of the waiting init (the runtime binary) opened";
    EXPECT_NE(created.open_exe_write_errno, 0)
        << "/proc/PID/exe of the waiting init opened for writing";

    // The same attacker against the same process once it runs the container's program:
    // dumpable again, so the refusals above came from the init being non-dumpable.
    ASSERT_EQ(b.runtime({"start", id}).status, 0);
    PtraceTry running{};
    for (int i = 0; i < 100; ++i) {
        running = try_from_userns(pid);
        if (running.seize_errno == 0) break;
        ::usleep(20000);  // execve may not have happened yet
    }
    EXPECT_EQ(running.seize_errno, 0) << "control: ptrace of the running container process failed";
    EXPECT_EQ(running.open_exe_errno, 0);
    b.runtime({"delete", "--force", id});
}
