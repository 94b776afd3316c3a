#include <linux/seccomp.h>

#include <gtest/gtest.h>

#include "runtime/security/defaults.h"
#include "runtime/security/seccomp.h"
#include "sys/error.h"

namespace sec = husk::runtime::security;
using husk::oci::Seccomp;

namespace {

Seccomp deny_mkdir() {
    return sec::parse_seccomp_json(R"({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]
    })");
}

std::string error_of(const Seccomp& p) {
    try {
        sec::compile_seccomp(p);
    } catch (const husk::Error& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST(SeccompCompile, SmallProfileGivesBpf) {
    auto prog = sec::compile_seccomp(deny_mkdir());
    EXPECT_FALSE(prog.filter.empty());
    EXPECT_EQ(prog.flags, 0u);
    EXPECT_FALSE(prog.notify);
}

TEST(SeccompCompile, EveryActionOperatorAndArch) {
    auto p = sec::parse_seccomp_json(R"({
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"],
        "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
        "syscalls": [
          {"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"},
          {"names": ["getpid"], "action": "SCMP_ACT_LOG"},
          {"names": ["getppid"], "action": "SCMP_ACT_TRAP"},
          {"names": ["kill"], "action": "SCMP_ACT_KILL"},
          {"names": ["tkill"], "action": "SCMP_ACT_KILL_THREAD"},
          {"names": ["tgkill"], "action": "SCMP_ACT_KILL_PROCESS"},
          {"names": ["ptrace"], "action": "SCMP_ACT_TRACE", "errnoRet": 7},
          {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"},
          {"names": ["openat"], "action": "SCMP_ACT_ALLOW", "args": [
             {"index": 2, "value": 3, "op": "SCMP_CMP_MASKED_EQ", "valueTwo": 0},
             {"index": 1, "value": 0, "op": "SCMP_CMP_NE"}]},
          {"names": ["dup3"], "action": "SCMP_ACT_ALLOW", "args": [
             {"index": 0, "value": 1, "op": "SCMP_CMP_LT"}, {"index": 1, "value": 2, "op": "SCMP_CMP_LE"},
             {"index": 2, "value": 3, "op": "SCMP_CMP_GE"}]},
          {"names": ["lseek"], "action": "SCMP_ACT_ALLOW", "args": [
             {"index": 2, "value": 0, "op": "SCMP_CMP_EQ"}, {"index": 2, "value": 1, "op": "SCMP_CMP_GT"}]},
          {"names": ["this_syscall_does_not_exist", "close"], "action": "SCMP_ACT_ALLOW"}
        ]})");
    auto prog = sec::compile_seccomp(p);
    EXPECT_FALSE(prog.filter.empty());
    EXPECT_EQ(prog.flags, unsigned(SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW));
}

TEST(SeccompCompile, NotifyNeedsListenerAndSetsFlags) {
    auto p = sec::parse_seccomp_json(R"({
        "defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_TSYNC",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
        "listenerPath": "/run/agent.sock", "listenerMetadata": "meta",
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})");
    auto without = p;
    without.listener_path.clear();
    EXPECT_EQ(error_of(without),
              "linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used");
    auto prog = sec::compile_seccomp(p);
    EXPECT_TRUE(prog.notify);
    EXPECT_EQ(prog.flags,
              unsigned(SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_NEW_LISTENER |
                       SECCOMP_FILTER_FLAG_TSYNC_ESRCH | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV));
    EXPECT_EQ(prog.listener_path, "/run/agent.sock");
    EXPECT_EQ(prog.listener_metadata, "meta");
}

TEST(SeccompCompile, WaitKillableWithoutListenerIsDropped) {
    auto p = deny_mkdir();
    p.flags = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
    EXPECT_EQ(sec::compile_seccomp(p).flags, 0u);
}

TEST(SeccompCompile, ErrorsNameTheField) {
    auto p = deny_mkdir();
    p.syscalls.push_back({{"rmdir"}, "SCMP_ACT_FOO", std::nullopt, {}});
    EXPECT_EQ(error_of(p), "linux.seccomp.syscalls[1].action: unknown action \"SCMP_ACT_FOO\"");

    p = deny_mkdir();
    p.default_action = "SCMP_ACT_NOPE";
    EXPECT_EQ(error_of(p), "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_NOPE\"");

    p = deny_mkdir();
    p.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"};
    EXPECT_EQ(error_of(p),
              "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_Z80\"");

    p = deny_mkdir();
    p.syscalls[0].args = {{0, 1, 0, "SCMP_CMP_EQ"}, {1, 1, 0, "SCMP_CMP_ALMOST"}};
    EXPECT_EQ(error_of(p),
              "linux.seccomp.syscalls[0].args[1].op: unknown operator \"SCMP_CMP_ALMOST\"");

    p = deny_mkdir();
    p.syscalls[0].args = {{6, 1, 0, "SCMP_CMP_EQ"}};
    EXPECT_EQ(error_of(p), "linux.seccomp.syscalls[0].args[0].index: 6 out of range 0..5");

    p = deny_mkdir();
    p.flags = {"SECCOMP_FILTER_FLAG_BOGUS"};
    EXPECT_EQ(error_of(p), "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_BOGUS\"");

    p = deny_mkdir();
    p.syscalls[0].action = "SCMP_ACT_ALLOW";
    p.default_action = "SCMP_ACT_KILL";
    EXPECT_EQ(error_of(p),
              "linux.seccomp.syscalls[0].errnoRet: only valid with SCMP_ACT_ERRNO or "
              "SCMP_ACT_TRACE, not SCMP_ACT_ALLOW");

    p = deny_mkdir();
    p.syscalls[0].errno_ret = 70000;
    EXPECT_EQ(error_of(p), "linux.seccomp.syscalls[0].errnoRet: 70000 out of range 0..65535");

    p = deny_mkdir();
    p.default_action = "SCMP_ACT_NOTIFY";
    EXPECT_EQ(error_of(p),
              "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
}

TEST(SeccompCompile, RuleEqualToDefaultIsSkipped) {
    auto p = sec::parse_seccomp_json(R"({"defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"},
                     {"names": ["read"], "action": "SCMP_ACT_ALLOW"}]})");
    EXPECT_FALSE(sec::compile_seccomp(p).filter.empty());
}

TEST(SeccompCompile, DefaultProfileCompiles) {
    auto p = sec::default_seccomp();
    EXPECT_EQ(p.default_action, "SCMP_ACT_ERRNO");
    ASSERT_TRUE(p.default_errno_ret);
    EXPECT_EQ(*p.default_errno_ret, 1u);
    auto prog = sec::compile_seccomp(p);
    EXPECT_GT(prog.filter.size(), 100u);
    EXPECT_LE(prog.filter.size(), 4096u);
    EXPECT_FALSE(prog.notify);
}
