// A forked child drops to the requested capability sets the way the runtime
// core will (bounding, keepcaps + ids, capset + ambient) and reports
// /proc/self/status: the sets must be exactly the requested ones.
#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "child.h"
#include "runtime/security/capabilities.h"
#include "runtime/security/defaults.h"

namespace sec = husk::runtime::security;
using husk::test::drop_to;
using husk::test::hex_mask;
using husk::test::parse_lines;
using husk::test::run_child;

namespace {

uint64_t all_caps() {
    int last = sec::last_cap();
    return last >= 63 ? ~uint64_t{0} : (uint64_t{1} << (last + 1)) - 1;
}

int copy_status(int out) {
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 101;
    char buf[8192];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        if (write(out, buf, static_cast<size_t>(n)) != n) return 102;
    close(fd);
    return 0;
}

struct Seen {
    uint64_t bnd, eff, prm, inh, amb;
};

Seen sets_of(const std::string& status) {
    auto m = parse_lines(status);
    return {hex_mask(m.at("CapBnd")), hex_mask(m.at("CapEff")), hex_mask(m.at("CapPrm")),
            hex_mask(m.at("CapInh")), hex_mask(m.at("CapAmb"))};
}

void expect_exact(const sec::CapSets& want, uid_t uid) {
    auto r = run_child([&](int out) {
        if (int rc = drop_to(want, uid)) return rc;
        return copy_status(out);
    });
    ASSERT_TRUE(r.exited_ok()) << "status " << r.status;
    Seen s = sets_of(r.output);
    EXPECT_EQ(s.bnd, want.bounding);
    EXPECT_EQ(s.eff, want.effective);
    EXPECT_EQ(s.prm, want.permitted);
    EXPECT_EQ(s.inh, want.inheritable);
    EXPECT_EQ(s.amb, want.ambient);
    EXPECT_EQ(parse_lines(r.output).at("Uid"), fmt::format("{}\t{}\t{}\t{}", uid, uid, uid, uid));
}

}  // namespace

TEST(CapabilitiesIntegration, RootWithDockerDefaultsHasExactlyThoseSets) {
    HUSK_REQUIRE_ROOT();
    husk::oci::Capabilities c;
    c.bounding = c.effective = c.permitted = sec::default_capabilities();
    auto caps = sec::parse_capabilities(c);
    EXPECT_NE(caps.bounding, all_caps());
    expect_exact(caps, 0);
}

TEST(CapabilitiesIntegration, NonRootWithAmbientHasExactlyThoseSets) {
    HUSK_REQUIRE_ROOT();
    husk::oci::Capabilities c;
    c.bounding = {"CAP_NET_BIND_SERVICE", "CAP_CHOWN", "CAP_KILL"};
    c.permitted = {"CAP_NET_BIND_SERVICE", "CAP_CHOWN"};
    c.effective = {"CAP_NET_BIND_SERVICE"};
    c.inheritable = {"CAP_NET_BIND_SERVICE"};
    c.ambient = {"CAP_NET_BIND_SERVICE"};
    expect_exact(sec::parse_capabilities(c), 1000);
}

TEST(CapabilitiesIntegration, EmptySetsLeaveNothing) {
    HUSK_REQUIRE_ROOT();
    expect_exact(sec::parse_capabilities({}), 1000);
    expect_exact(sec::parse_capabilities({}), 0);
}

// After execve a non-root process keeps exactly its ambient capabilities in
// permitted and effective; inheritable and bounding pass through unchanged.
TEST(CapabilitiesIntegration, AmbientSurvivesExecveForNonRoot) {
    HUSK_REQUIRE_ROOT();
    husk::oci::Capabilities c;
    c.bounding = c.permitted = c.effective = {"CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_CHOWN"};
    c.inheritable = c.ambient = {"CAP_NET_BIND_SERVICE", "CAP_NET_RAW"};
    auto caps = sec::parse_capabilities(c);
    auto r = run_child([&](int out) {
        if (int rc = drop_to(caps, 1000)) return rc;
        return husk::test::exec_cat_status(out);
    });
    ASSERT_TRUE(r.exited_ok()) << "status " << r.status;
    Seen s = sets_of(r.output);
    EXPECT_EQ(s.bnd, caps.bounding);
    EXPECT_EQ(s.prm, caps.ambient);
    EXPECT_EQ(s.eff, caps.ambient);
    EXPECT_EQ(s.inh, caps.inheritable);
    EXPECT_EQ(s.amb, caps.ambient);
}

// CVE-2022-29162 class: inheritable stays empty unless asked, so a file-capability
// binary cannot pick up privileges through it.
TEST(CapabilitiesIntegration, InheritableAndAmbientStayEmptyUnlessAsked) {
    HUSK_REQUIRE_ROOT();
    // Start from a parent state with a non-empty inheritable set.
    auto r = run_child([&](int out) {
        husk::oci::Capabilities all;
        all.bounding = all.permitted = all.effective = all.inheritable =
            sec::default_capabilities();
        if (sec::apply_capabilities(sec::parse_capabilities(all)) != 0) return 30;
        husk::oci::Capabilities c;
        c.bounding = c.permitted = c.effective = sec::default_capabilities();
        if (int rc = drop_to(sec::parse_capabilities(c), 0)) return rc;
        return copy_status(out);
    });
    ASSERT_TRUE(r.exited_ok()) << "status " << r.status;
    Seen s = sets_of(r.output);
    EXPECT_EQ(s.inh, 0u);
    EXPECT_EQ(s.amb, 0u);
}

TEST(CapabilitiesIntegration, FailedStepIsNamed) {
    HUSK_REQUIRE_ROOT();
    auto r = run_child([&](int out) {
        husk::oci::Capabilities none;
        if (int rc = drop_to(sec::parse_capabilities(none), 1000)) return rc;
        // Now without CAP_SETPCAP: raising the permitted set must fail with EPERM.
        husk::oci::Capabilities more;
        more.permitted = {"CAP_KILL"};
        const char* step = nullptr;
        int rc = sec::apply_capabilities(sec::parse_capabilities(more), &step);
        husk::test::report(out, "rc", rc);
        if (step && write(out, step, strlen(step)) < 0) return 31;
        return 0;
    });
    ASSERT_TRUE(r.exited_ok());
    EXPECT_NE(r.output.find("rc=-1\n"), std::string::npos) << r.output;  // -EPERM
    EXPECT_NE(r.output.find("capset"), std::string::npos) << r.output;
}

// CVE-2022-29162 class: a binary with file-inheritable capabilities gains them
// on execve only through the process's inheritable set, so an empty inheritable
// set (the default) gives it nothing; asking for the capability gives exactly it.
TEST(CapabilitiesIntegration, FileInheritableCapsNeedTheProcessInheritableSet) {
    HUSK_REQUIRE_ROOT();
    char tmpl[] = "/tmp/security-fcap-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    std::string dir = tmpl;
    ASSERT_EQ(chmod(dir.c_str(), 0755), 0);
    std::string cat = dir + "/cat";
    std::filesystem::copy_file("/bin/cat", cat);
    ASSERT_EQ(chmod(cat.c_str(), 0755), 0);
    std::string cmd = fmt::format("setcap cap_net_raw+ei {} 2>/dev/null", cat);
    if (std::system(cmd.c_str()) != 0) {
        std::filesystem::remove_all(dir);
        GTEST_SKIP() << "setcap failed: no file capabilities on /tmp";
    }
    auto run = [&](const std::vector<std::string>& inheritable) {
        husk::oci::Capabilities c;
        c.bounding = c.permitted = c.effective = {"CAP_NET_RAW", "CAP_CHOWN"};
        c.inheritable = inheritable;
        auto caps = sec::parse_capabilities(c);
        auto r = run_child([&](int out) {
            if (int rc = drop_to(caps, 1000)) return rc;
            if (dup2(out, 1) != 1) return 20;
            std::string status = "/proc/self/status";
            char* argv[] = {cat.data(), status.data(), nullptr};
            char* envp[] = {nullptr};
            execve(cat.c_str(), argv, envp);
            return 21;
        });
        EXPECT_TRUE(r.exited_ok()) << r.status;
        return sets_of(r.output);
    };
    Seen plain = run({});
    EXPECT_EQ(plain.prm, 0u);
    EXPECT_EQ(plain.eff, 0u);
    Seen asked = run({"CAP_NET_RAW"});
    EXPECT_EQ(asked.prm, uint64_t{1} << 13);  // CAP_NET_RAW only
    EXPECT_EQ(asked.eff, uint64_t{1} << 13);
    std::filesystem::remove_all(dir);
}
