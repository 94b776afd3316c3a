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
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>

#include "attack_util.h"

using namespace husk::test;
using namespace husk::test::attack;
using nlohmann::json;

namespace {

void sh(const std::string& cmd) {
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

// The rootfs gets what the runtime binary needs to start inside it (its shared objects when
// it has any), the attacker, and the "#!/proc/self/exe" entrypoint.
void prepare_exe_attack(Bundle& b, const std::string& runtime_copy) {
    sh("for f in $(ldd '" + runtime_copy +
       "' 2>/dev/null | grep -o '/[^ ]*'); do cp --parents -L \"$f\" '" + b.rootfs() + "'; done");
    sh("cp '" + attacker_bin() + "' '" + b.rootfs() + "/bin/husk-attacker'");
    write_file(b.rootfs() + "/evil", "#!/proc/self/exe\n", 0755);
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

// A pipe whose buffer is full: a process writing to it blocks until the test reads.
struct FullPipe {
    int rd = -1, wr = -1;
    FullPipe() {
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0) return;
        rd = p[0];
        wr = p[1];
        int fl = ::fcntl(wr, F_GETFL);
        ::fcntl(wr, F_SETFL, fl | O_NONBLOCK);
        std::string chunk(4096, 'x');
        while (::write(wr, chunk.data(), chunk.size()) > 0) {
        }
        ::fcntl(wr, F_SETFL, fl);  // the writer in the container must block, not fail
    }
    ~FullPipe() {
        release();
        if (wr >= 0) ::close(wr);
    }
    // Close the read end: a writer blocked on it gets SIGPIPE.
    void release() {
        if (rd >= 0) ::close(rd);
        rd = -1;
    }
    FullPipe(const FullPipe&) = delete;
    FullPipe& operator=(const FullPipe&) = delete;
};

// Run argv with stderr on `err_fd` (stdin, stdout: /dev/null) and wait for it, 30 s at most:
// the runtime passes its stdio to the container process.
int run_with_stderr(const std::vector<std::string>& argv, int err_fd) {
    pid_t pid = ::fork();
    if (pid == 0) {
        int null = ::open("/dev/null", O_RDWR);
        ::dup2(null, 0);
        ::dup2(null, 1);
        ::dup2(err_fd, 2);
        std::vector<char*> a;
        for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
        a.push_back(nullptr);
        ::execv(a[0], a.data());
        ::_exit(127);
    }
    for (int i = 0; i < 3000; ++i) {
        int st;
        if (::waitpid(pid, &st, WNOHANG) == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
        ::usleep(10000);
    }
    ::kill(pid, SIGKILL);  // e.g. blocked writing an error message to the full pipe
    ::waitpid(pid, nullptr, 0);
    return -1;
}

// Which process of the container the kernel makes execute the runtime binary.
enum class Via {
    Init,  // the container's entrypoint (no PID namespace: the attacker, exec'd beside
           // it, must outlive it)
    Exec,  // a process `exec -d` starts; the attacker is the container's init
};

// The attack, staged from outside the runtime's process, so it works whatever way the
// runtime is linked: the process the kernel makes run the runtime binary blocks writing
// its usage message to a full stderr pipe; husk-attacker, in the same container, takes an
// O_PATH fd of its /proc/PID/exe; the test then lets the process exit and the attacker
// reopens the fd for writing.
void run_exe_attack(Bundle& b, Via via, int expected_errno = EROFS) {
    // A private copy of the runtime: the attack must not damage the binary other tests use.
    std::string copy = b.dir() + "/husk-runtime-copy";
    sh("cp '" + runtime_bin() + "' '" + copy + "'");
    std::string before = read_file(copy);
    prepare_exe_attack(b, copy);
    std::string id = b.id();
    std::string tag = "husk-attack-" + id;  // tells this test's victim from a parallel test's
    std::vector<std::string> evil = {"/evil", tag};
    std::vector<std::string> attacker = {"/bin/husk-attacker", "exe-grab", tag, "/tmp/attack.json"};
    b.config["process"]["args"] = via == Via::Init ? evil : attacker;
    if (via == Via::Init) drop_namespace(b.config, "pid");
    b.save();
    auto rt = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {copy, "--root", b.state_root()});
        return args;
    };
    FullPipe pipe;
    ASSERT_GE(pipe.rd, 0);
    std::string result_path = b.rootfs() + "/tmp/attack.json";
    if (via == Via::Init) {
        ASSERT_EQ(run_with_stderr(rt({"create", "--bundle", b.dir(), id}), pipe.wr), 0);
        auto s = run(rt({"start", id}));
        ASSERT_EQ(s.status, 0) << s.err;
        auto e = run(rt({"exec", "-d", id, attacker[0], attacker[1], attacker[2], attacker[3]}));
        EXPECT_EQ(e.status, 0) << e.err;
    } else {
        auto c = run(rt({"create", "--bundle", b.dir(), id}));
        ASSERT_EQ(c.status, 0) << c.err;
        auto s = run(rt({"start", id}));
        ASSERT_EQ(s.status, 0) << s.err;
        EXPECT_EQ(run_with_stderr(rt({"exec", "-d", id, evil[0], evil[1]}), pipe.wr), 0);
    }
    bool grabbed = wait_for_file(result_path + ".grabbed", 20) || exists(result_path);
    pipe.release();  // the victim exits (SIGPIPE): the binary is no longer "text busy"
    bool reported = wait_for_file(result_path, 30);
    run(rt({"delete", "--force", id}));
    ASSERT_TRUE(grabbed && reported)
        << "the attacker found no process executing the runtime binary: "
        << (exists(result_path) ? read_file(result_path) : "no report");
    json r = json::parse(read_file(result_path));
    ASSERT_TRUE(r["grabbed"].get<bool>()) << r.dump();
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
    run_exe_attack(b, Via::Init);
}

TEST(SecurityAttackCVE_2019_5736, ProcSelfExeOverwriteThroughExecFails) {
    Bundle b("sectests-exeexec");
    run_exe_attack(b, Via::Exec);
}

TEST(SecurityAttackCVE_2019_5736, ProcSelfExeOverwriteFailsInAPrivilegedContainer) {
    Bundle b("sectests-exepriv");
    set_all_caps(b.config, all_capabilities());
    b.config["process"]["noNewPrivileges"] = false;
    b.save();
    run_exe_attack(b, Via::Init);
}

TEST(SecurityAttackCVE_2019_5736, UserNamespaceContainerCannotWriteTheRuntimeBinary) {
    // The runtime skips the read-only re-exec when the container's root is not the
    // binary's owner: there file permissions refuse the write (EACCES), check that.
    // Through exec: a user namespace needs its own PID namespace to mount /proc.
    Bundle b("sectests-exeuserns");
    ::chmod(b.dir().c_str(), 0755);
    ::chmod((b.rootfs() + "/tmp").c_str(), 01777);
    use_user_namespace(b, 200000);
    run_exe_attack(b, Via::Exec, EACCES);
}

// The seal itself, right after `create` and before anything of the container runs: the
// waiting init's /proc/PID/exe is the runtime binary on a read-only detached mount of its
// own (readlink shows the mount's root, "/"), not the binary on the host's filesystem:
// husk-runtime re-executed itself from there at its ELF entry point (entry.c), or failing
// that in main(). Writing to it fails (ETXTBSY while the init executes it, EROFS after:
// ProcSelfExeOverwrite... above).
TEST(SecurityAttackCVE_2019_5736, InitRunsFromAReadOnlyMountRightAfterCreate) {
    Bundle b("sectests-sealed");
    b.args({"/bin/husk-probe", "sleep", "60"});
    std::string id;
    auto c = create(b, &id);
    ASSERT_EQ(c.status, 0) << c.err;
    int pid = json::parse(b.runtime({"state", id}).out)["pid"];
    const std::string exe = "/proc/" + std::to_string(pid) + "/exe";
    char target[4096];
    ssize_t n = ::readlink(exe.c_str(), target, sizeof target - 1);
    ASSERT_GT(n, 0) << exe << ": " << std::strerror(errno);
    target[n] = '\0';
    struct stat on_disk {
    }, running{};
    ASSERT_EQ(::stat(runtime_bin().c_str(), &on_disk), 0);
    ASSERT_EQ(::stat(exe.c_str(), &running), 0);
    EXPECT_EQ(on_disk.st_ino, running.st_ino) << exe << " -> " << target << " is not husk-runtime";
    struct statvfs sv {};
    ASSERT_EQ(::statvfs(exe.c_str(), &sv), 0) << std::strerror(errno);
    EXPECT_NE(sv.f_flag & ST_RDONLY, 0U)
        << exe << " -> " << target << " is on a writable mount: the runtime binary is not sealed";
    EXPECT_NE(std::string(target), runtime_bin()) << exe << " is the binary on the host's mount";
    int w = ::open(exe.c_str(), O_WRONLY | O_CLOEXEC);
    if (w >= 0) ::close(w);
    EXPECT_LT(w, 0) << exe << " opened for writing";
    b.runtime({"delete", "--force", id});
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
        // execve may not have happened yet, or have happened between the attacker's open
        // of the exe (refused: not dumpable yet) and its ptrace (allowed): try again
        if (running.seize_errno == 0 && running.open_exe_errno == 0) break;
        ::usleep(20000);
    }
    EXPECT_EQ(running.seize_errno, 0) << "control: ptrace of the running container process failed";
    EXPECT_EQ(running.open_exe_errno, 0);
    b.runtime({"delete", "--force", id});
}
