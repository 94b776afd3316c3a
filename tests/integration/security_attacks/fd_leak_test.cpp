// CVE-2024-21626 class: a runtime fd (a host directory) leaked into the init and used
// as the container's cwd through /proc/self/fd/N gives the container the host's
// filesystem. And, more generally: no fd of the runtime reaches the container.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attack_util.h"

using namespace husk::test;
using namespace husk::test::attack;
using nlohmann::json;

namespace {

// `husk-runtime run [--preserve-fds N] --bundle ... ID` with fds 3..3+extra-1 open in the
// runtime (inherited, not CLOEXEC) on the host's "/": the worst fds a caller could leak.
Result run_inheriting_dirs(Bundle& b, int extra, int preserve) {
    std::string out = b.dir() + "/run.out", err = b.dir() + "/run.err";
    std::string id = b.id();
    pid_t c = ::fork();
    if (c == 0) {
        int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(o, 1);
        ::dup2(::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 2);
        int null = ::open("/dev/null", O_RDWR);
        ::dup2(null, 0);
        for (int fd = 3; fd < 3 + extra; ++fd) {
            int d = ::open("/", O_RDONLY | O_DIRECTORY);
            if (d != fd) {
                ::dup2(d, fd);
                ::close(d);
            }
        }
        std::string pf = std::to_string(preserve);
        std::string bin = runtime_bin(), root = b.state_root(), dir = b.dir();
        const char* argv[] = {bin.c_str(), "--root",   root.c_str(), "run",      "--preserve-fds",
                              pf.c_str(),  "--bundle", dir.c_str(),  id.c_str(), nullptr};
        ::execv(argv[0], const_cast<char**>(argv));
        ::_exit(127);
    }
    int st = 0;
    ::waitpid(c, &st, 0);
    Result r;
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r.out = read_file(out);
    r.err = read_file(err);
    return r;
}

json fds_seen(Bundle& b, int preserve, int extra) {
    Result r = run_inheriting_dirs(b, extra, preserve);
    EXPECT_EQ(r.status, 0) << r.err;
    try {
        return last_json_line(r.out)["fds"];
    } catch (...) {
        ADD_FAILURE() << "no report: " << r.out << r.err;
        return nullptr;
    }
}

}  // namespace

TEST(SecurityAttackCVE_2024_21626, LeakedFdAsCwdNeverReachesTheHost) {
    Bundle b("sectests-cwd");
    for (int n = 3; n <= 24; ++n) {
        b.config["process"]["cwd"] = "/proc/self/fd/" + std::to_string(n);
        b.save();
        // Directories of the host are open at 3..6 in the runtime (a careless caller), and
        // whatever the runtime itself has open above them.
        Result r = run_inheriting_dirs(b, 4, 0);
        if (r.status != 0) {
            // Refused: with a clear message naming the cwd.
            EXPECT_NE(r.err.find("cwd"), std::string::npos) << "fd " << n << ": " << r.err;
            continue;
        }
        json p = last_json_line(r.out);
        ASSERT_TRUE(p["cwd"].is_string())
            << "fd " << n
            << ": the container's cwd is not below its root (getcwd failed): " << r.out;
        std::string cwd = p["cwd"];
        EXPECT_EQ(cwd.rfind('/', 0), 0u)
            << "fd " << n << ": the container's cwd is outside its root: " << cwd;
    }
    EXPECT_TRUE(mounts_under(b.rootfs()).empty());
    EXPECT_EQ(b.runtime({"list", "-q"}).out, "") << "a refused create left state behind";
}

TEST(SecurityAttackCVE_2024_21626, NoRuntimeFdReachesTheContainer) {
    Bundle b("sectests-fds");
    EXPECT_EQ(fds_seen(b, 0, 0), json({0, 1, 2}));
    // Inherited fds of whoever called the runtime are not passed on unless preserved.
    EXPECT_EQ(fds_seen(b, 0, 4), json({0, 1, 2}));
    EXPECT_EQ(fds_seen(b, 2, 4), json({0, 1, 2, 3, 4}));
}
