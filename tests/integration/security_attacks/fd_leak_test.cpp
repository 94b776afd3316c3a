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

TEST(SecurityAttackCVE_2024_21626, LeakedFdAsCwdNeverReachesTheHost) {
    Bundle b("sectests-cwd");
    for (int n = 3; n <= 24; ++n) {
        b.config["process"]["cwd"] = "/proc/self/fd/" + std::to_string(n);
        b.save();
        std::string id = b.id();
        Result r = b.runtime({"run", "--bundle", b.dir(), id});
        if (r.status != 0) {
            // Refused: with a clear message naming the cwd, and nothing left behind.
            EXPECT_NE(r.err.find("cwd"), std::string::npos) << "fd " << n << ": " << r.err;
            EXPECT_EQ(b.runtime({"state", id}).status, 1)
                << "fd " << n << ": failed create left state";
            continue;
        }
        json p = last_json_line(r.out);
        ASSERT_TRUE(p["cwd"].is_string()) << "fd " << n << ": " << r.out;
        std::string cwd = p["cwd"];
        EXPECT_EQ(cwd.rfind('/', 0), 0u)
            << "fd " << n << ": the container's cwd is outside its root: " << cwd;
    }
}

namespace {

// Run the container with fds 3..3+extra-1 open in the runtime (not CLOEXEC) and
// `--preserve-fds preserve`; returns the probe's fd list.
json fds_seen(Bundle& b, int preserve, int extra) {
    std::string out = b.dir() + "/fds.out";
    std::string id = b.id();
    pid_t c = ::fork();
    if (c == 0) {
        int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(o, 1);
        int null = ::open("/dev/null", O_RDWR);
        ::dup2(null, 0);
        // Fill 3.. with inheritable fds: directories of the host, the worst kind.
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
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << read_file(out);
    try {
        return last_json_line(read_file(out))["fds"];
    } catch (...) {
        ADD_FAILURE() << "no report: " << read_file(out);
        return nullptr;
    }
}

}  // namespace

TEST(SecurityAttackCVE_2024_21626, NoRuntimeFdReachesTheContainer) {
    Bundle b("sectests-fds");
    EXPECT_EQ(fds_seen(b, 0, 0), json({0, 1, 2}));
    // Inherited fds of whoever called the runtime are not passed on unless preserved.
    EXPECT_EQ(fds_seen(b, 0, 4), json({0, 1, 2}));
    EXPECT_EQ(fds_seen(b, 2, 4), json({0, 1, 2, 3, 4}));
}
