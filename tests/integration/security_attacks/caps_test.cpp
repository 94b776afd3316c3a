// CVE-2022-29162 class (non-empty inheritable capabilities let file-capability binaries
// gain privileges), the capability sets the container gets, and no_new_privs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "attack_util.h"

using namespace husk::test;
using namespace husk::test::attack;
using nlohmann::json;

namespace {

constexpr int kChown = 0, kKill = 5, kNetBind = 10, kNetRaw = 13, kAuditWrite = 29;

// A copy of the probe with file capabilities cap_net_raw+ei; false when setcap is unusable.
bool file_cap_probe(Bundle& b) {
    std::string p = b.rootfs() + "/bin/probe-fcap";
    std::string cmd =
        "cp '" + probe_bin() + "' '" + p + "' && setcap cap_net_raw+ei '" + p + "' 2>/dev/null";
    return std::system(cmd.c_str()) == 0;
}

json caps_of(const json& probe) {
    return probe.is_object() ? probe["capabilities"] : json();
}

}  // namespace

TEST(SecurityAttackCVE_2022_29162, InheritableCapsStayEmptySoFileCapsGrantNothing) {
    Bundle b("sectests-fcap");
    if (!file_cap_probe(b)) GTEST_SKIP() << "setcap (libcap2-bin) unusable on this filesystem";
    b.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
    b.config["process"]["noNewPrivileges"] =
        false;  // else file caps never apply: the test would prove nothing
    b.config["process"]["capabilities"] = {
        {"bounding", {"CAP_KILL", "CAP_NET_RAW", "CAP_NET_BIND_SERVICE"}},
        {"effective", {"CAP_KILL", "CAP_NET_RAW"}},
        {"permitted", {"CAP_KILL", "CAP_NET_RAW"}}};
    b.args({"/bin/probe-fcap"});
    json c = caps_of(run_probe(b));
    EXPECT_EQ(c["CapInh"], cap_hex({})) << c.dump();
    EXPECT_EQ(c["CapPrm"], cap_hex({}))
        << "a file-capability binary gained privileges: " << c.dump();
    EXPECT_EQ(c["CapEff"], cap_hex({})) << c.dump();

    // Control: when inheritable is asked for explicitly, the file capability applies.
    b.config["process"]["capabilities"]["inheritable"] = {"CAP_NET_RAW"};
    b.save();
    json c2 = caps_of(run_probe(b));
    EXPECT_EQ(c2["CapPrm"], cap_hex({kNetRaw})) << c2.dump();
}

TEST(SecurityAttackCapabilities, RootGetsExactlyTheRequestedSets) {
    Bundle b("sectests-capsroot");
    std::vector<std::string> s = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW",
                                  "CAP_AUDIT_WRITE"};
    b.config["process"]["capabilities"] = {{"bounding", s}, {"effective", s}, {"permitted", s}};
    b.save();
    json c = caps_of(run_probe(b));
    std::string all = cap_hex({kChown, kKill, kNetBind, kNetRaw, kAuditWrite});
    EXPECT_EQ(c["CapBnd"], all);
    EXPECT_EQ(c["CapPrm"], all);
    EXPECT_EQ(c["CapEff"], all);
    EXPECT_EQ(c["CapInh"], cap_hex({})) << "inheritable must stay empty unless asked for";
    EXPECT_EQ(c["CapAmb"], cap_hex({})) << "ambient must stay empty unless asked for";

    b.config["process"]["capabilities"]["inheritable"] = {"CAP_KILL"};
    b.config["process"]["capabilities"]["ambient"] = {"CAP_KILL"};
    b.save();
    json c2 = caps_of(run_probe(b));
    EXPECT_EQ(c2["CapInh"], cap_hex({kKill}));
    EXPECT_EQ(c2["CapAmb"], cap_hex({kKill}));
    EXPECT_EQ(c2["CapBnd"], all);
}

TEST(SecurityAttackCapabilities, NonRootUserWithAmbientGetsExactlyTheRequestedSets) {
    Bundle b("sectests-capsuser");
    b.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
    b.config["process"]["capabilities"] = {
        {"bounding",
         {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_AUDIT_WRITE"}},
        {"effective", {"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"}},
        {"permitted", {"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"}},
        {"inheritable", {"CAP_KILL", "CAP_NET_BIND_SERVICE"}},
        {"ambient", {"CAP_NET_BIND_SERVICE"}}};
    b.save();
    json p = run_probe(b);
    json c = caps_of(p);
    EXPECT_EQ(p["uid"], 1000);
    // Across execve a non-root process keeps exactly its ambient set as permitted and effective.
    EXPECT_EQ(c["CapBnd"], cap_hex({kChown, kKill, kNetBind, kNetRaw, kAuditWrite}));
    EXPECT_EQ(c["CapInh"], cap_hex({kKill, kNetBind}));
    EXPECT_EQ(c["CapAmb"], cap_hex({kNetBind}));
    EXPECT_EQ(c["CapPrm"], cap_hex({kNetBind}));
    EXPECT_EQ(c["CapEff"], cap_hex({kNetBind}));
}

TEST(SecurityAttackNoNewPrivs, OnAndOffAsRequested) {
    Bundle b("sectests-nnp");
    b.config["process"]["noNewPrivileges"] = true;
    b.save();
    EXPECT_EQ(run_probe(b)["no_new_privs"], 1);
    b.config["process"]["noNewPrivileges"] = false;
    b.save();
    EXPECT_EQ(run_probe(b)["no_new_privs"], 0);
}
