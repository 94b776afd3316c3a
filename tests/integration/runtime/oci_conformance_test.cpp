// Where runc and crun run a config that husk-runtime refused or ran differently (issue 14,
// section 4): each test asserts what the container, a hook or the host sees.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "../harness.h"

using namespace husk::test;
using nlohmann::json;

namespace {

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

}  // namespace

// A profile that denies getcwd to the container's program must not fail create: the cwd
// is entered and checked before the filter is loaded (without noNewPrivileges it is loaded
// before the user switch), as runc and crun.
TEST(OciConformance, SeccompDenyingGetcwdWithoutNoNewPrivilegesStillStarts) {
    Bundle b("oci-getcwd");
    b.config["process"]["noNewPrivileges"] = false;
    b.config["process"]["cwd"] = "/tmp";
    b.config["linux"]["seccomp"] = {
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"syscalls", {{{"names", {"getcwd"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
    b.args({"/bin/echo", "started"});
    auto r = b.runtime({"run", "--bundle", b.dir(), b.id()});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "started\n") << r.err;
    EXPECT_FALSE(contains(r.err, "cwd is outside")) << r.err;
}
