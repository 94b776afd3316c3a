#include <gtest/gtest.h>

#include "runtime/security/defaults.h"
#include "runtime/security/seccomp.h"
#include "sys/error.h"

namespace sec = husk::runtime::security;

namespace {
std::string parse_error(const std::string& text) {
    try {
        sec::parse_seccomp_json(text);
    } catch (const husk::Error& e) {
        return e.what();
    }
    return "no error";
}
}  // namespace

TEST(SeccompJson, ParsesEveryField) {
    auto p = sec::parse_seccomp_json(R"({
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
        "architectures": ["SCMP_ARCH_X86_64"], "flags": ["SECCOMP_FILTER_FLAG_LOG"],
        "listenerPath": "/run/a.sock", "listenerMetadata": "m",
        "syscalls": [{"names": ["clone"], "action": "SCMP_ACT_ALLOW", "errnoRet": 5,
                      "args": [{"index": 0, "value": 2114060288, "valueTwo": 0,
                                "op": "SCMP_CMP_MASKED_EQ"}]},
                     {"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": null}]})");
    EXPECT_EQ(p.default_action, "SCMP_ACT_ERRNO");
    EXPECT_EQ(p.default_errno_ret.value(), 38u);
    EXPECT_EQ(p.architectures, std::vector<std::string>{"SCMP_ARCH_X86_64"});
    EXPECT_EQ(p.flags, std::vector<std::string>{"SECCOMP_FILTER_FLAG_LOG"});
    EXPECT_EQ(p.listener_path, "/run/a.sock");
    EXPECT_EQ(p.listener_metadata, "m");
    ASSERT_EQ(p.syscalls.size(), 2u);
    EXPECT_EQ(p.syscalls[0].errno_ret.value(), 5u);
    ASSERT_EQ(p.syscalls[0].args.size(), 1u);
    EXPECT_EQ(p.syscalls[0].args[0].value, 2114060288u);
    EXPECT_EQ(p.syscalls[0].args[0].op, "SCMP_CMP_MASKED_EQ");
    EXPECT_TRUE(p.syscalls[1].args.empty());
}

TEST(SeccompJson, ErrorsNameThePath) {
    EXPECT_EQ(parse_error(R"({"syscalls": []})"), "linux.seccomp.defaultAction: required");
    EXPECT_EQ(parse_error(R"({"defaultAction": 1})"),
              "linux.seccomp.defaultAction: expected string, got integer");
    EXPECT_EQ(parse_error(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": "x",
              "action": "SCMP_ACT_ALLOW"}]})"),
              "linux.seccomp.syscalls[0].names: expected array, got string");
    EXPECT_EQ(parse_error(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"],
              "action": "SCMP_ACT_ALLOW", "args": [{"index": -1, "value": 0, "op": "SCMP_CMP_EQ"}]}]})"),
              "linux.seccomp.syscalls[0].args[0].index: -1 is out of range for uint32");
    EXPECT_EQ(parse_error(R"({"defaultAction": "SCMP_ACT_FOO"})")
                  .rfind("linux.seccomp.defaultAction: ", 0),
              0u);
    EXPECT_NE(parse_error("{").find("linux.seccomp: invalid JSON"), std::string::npos);
}

TEST(SeccompJson, DumpIsDeterministicAndRoundTrips) {
    auto p = sec::default_seccomp();
    std::string once = sec::dump_seccomp_json(p);
    EXPECT_EQ(sec::dump_seccomp_json(p), once);
    auto spec = husk::oci::parse_spec(once);
    ASSERT_TRUE(spec.linux_ && spec.linux_->seccomp);
    EXPECT_EQ(sec::dump_seccomp_json(*spec.linux_->seccomp), once);
    EXPECT_EQ(spec.linux_->seccomp->syscalls.size(), p.syscalls.size());
}
