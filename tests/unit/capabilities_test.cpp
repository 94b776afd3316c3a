#include "runtime/security/capabilities.h"

#include <linux/capability.h>

#include <gtest/gtest.h>

#include "runtime/security/defaults.h"
#include "sys/error.h"

namespace sec = husk::runtime::security;

TEST(Capabilities, NamesAndNumbersBothWays) {
    EXPECT_EQ(sec::cap_from_name("CAP_CHOWN"), 0);
    EXPECT_EQ(sec::cap_from_name("CAP_SYS_ADMIN"), 21);
    EXPECT_EQ(sec::cap_from_name("CAP_NET_RAW"), 13);
    EXPECT_EQ(sec::cap_from_name("cap_net_raw"), -1);  // the spec spells them in capitals
    EXPECT_EQ(sec::cap_from_name("CAP_PERFMON"), 38);
    EXPECT_EQ(sec::cap_from_name("CAP_BPF"), 39);
    EXPECT_EQ(sec::cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
    EXPECT_EQ(sec::cap_from_name("CHOWN"), -1);
    EXPECT_EQ(sec::cap_from_name("CAP_FOO"), -1);
    EXPECT_EQ(sec::cap_from_name(""), -1);
    for (int i = 0; i <= 40; ++i) EXPECT_EQ(sec::cap_from_name(sec::cap_name(i)), i) << i;
    EXPECT_EQ(sec::cap_name(40), "CAP_CHECKPOINT_RESTORE");
    EXPECT_EQ(sec::cap_name(41), "CAP_41");
}

TEST(Capabilities, NumbersMatchTheKernelHeaders) {
    EXPECT_EQ(sec::cap_from_name("CAP_SETPCAP"), CAP_SETPCAP);
    EXPECT_EQ(sec::cap_from_name("CAP_MKNOD"), CAP_MKNOD);
    EXPECT_EQ(sec::cap_from_name("CAP_SETFCAP"), CAP_SETFCAP);
    EXPECT_EQ(sec::cap_from_name("CAP_AUDIT_READ"), CAP_AUDIT_READ);
    EXPECT_EQ(sec::cap_from_name("CAP_PERFMON"), CAP_PERFMON);
    EXPECT_EQ(sec::cap_from_name("CAP_BPF"), CAP_BPF);
    EXPECT_EQ(sec::cap_from_name("CAP_CHECKPOINT_RESTORE"), CAP_CHECKPOINT_RESTORE);
    EXPECT_EQ(sec::cap_from_name("CAP_SYS_ADMIN"), CAP_SYS_ADMIN);
}

TEST(Capabilities, LastCapComesFromTheKernel) {
    int last = sec::last_cap();
    EXPECT_GE(last, 36);
    EXPECT_LT(last, 64);
}

TEST(Capabilities, ParseGivesMasks) {
    husk::oci::Capabilities c;
    c.bounding = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
    c.permitted = {"CAP_CHOWN", "CAP_NET_BIND_SERVICE"};
    c.effective = {"CAP_CHOWN"};
    c.inheritable = {"CAP_NET_BIND_SERVICE"};
    c.ambient = {"CAP_NET_BIND_SERVICE"};
    auto s = sec::parse_capabilities(c);
    EXPECT_EQ(s.bounding, (1u << 0) | (1u << 5) | (1u << 10));
    EXPECT_EQ(s.permitted, (1u << 0) | (1u << 10));
    EXPECT_EQ(s.effective, 1u << 0);
    EXPECT_EQ(s.inheritable, 1u << 10);
    EXPECT_EQ(s.ambient, 1u << 10);
    EXPECT_EQ(s.last_cap, sec::last_cap());
}

TEST(Capabilities, EmptyMeansNothing) {
    auto s = sec::parse_capabilities({});
    EXPECT_EQ(s.bounding | s.effective | s.permitted | s.inheritable | s.ambient, 0u);
}

TEST(Capabilities, UnknownNameNamesTheField) {
    husk::oci::Capabilities c;
    c.bounding = {"CAP_CHOWN", "CAP_FOO"};
    try {
        sec::parse_capabilities(c);
        FAIL() << "no error";
    } catch (const husk::Error& e) {
        EXPECT_STREQ(e.what(), "process.capabilities.bounding: unknown capability \"CAP_FOO\"");
    }
    c = {};
    c.ambient = {"NET_ADMIN"};
    EXPECT_THROW(sec::parse_capabilities(c), husk::Error);
}

TEST(Capabilities, EffectiveOutsidePermittedIsAnError) {
    husk::oci::Capabilities c;
    c.effective = {"CAP_KILL"};
    try {
        sec::parse_capabilities(c);
        FAIL() << "no error";
    } catch (const husk::Error& e) {
        EXPECT_STREQ(e.what(), "process.capabilities.effective: CAP_KILL not in permitted");
    }
}

TEST(Capabilities, AmbientNeedsPermittedAndInheritable) {
    husk::oci::Capabilities c;
    c.permitted = {"CAP_KILL", "CAP_CHOWN"};
    c.inheritable = {"CAP_CHOWN"};
    c.ambient = {"CAP_KILL", "CAP_CHOWN"};
    auto s = sec::parse_capabilities(c);
    EXPECT_EQ(s.ambient, 1u << 0);  // CAP_KILL cannot be raised: dropped with a warning
}

TEST(Capabilities, DockerDefaultSetParses) {
    husk::oci::Capabilities c;
    c.bounding = c.effective = c.permitted = sec::default_capabilities();
    auto s = sec::parse_capabilities(c);
    EXPECT_EQ(sec::cap_names(s.bounding).size(), 14u);
    EXPECT_FALSE(s.bounding & (uint64_t{1} << 21));  // no CAP_SYS_ADMIN
    EXPECT_TRUE(s.bounding & (uint64_t{1} << 18));   // CAP_SYS_CHROOT
}
