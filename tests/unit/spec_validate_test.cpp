// parse_spec rejects bad configs with one line naming the JSON path and the problem.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "oci/spec.h"
#include "sys/error.h"

namespace husk::oci {
namespace {

using nlohmann::json;

constexpr const char* kBase = R"({
  "ociVersion": "1.2.0",
  "process": {"args": ["sh"], "cwd": "/", "user": {"uid": 0, "gid": 0}},
  "root": {"path": "rootfs"},
  "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
  "hooks": {"prestart": [{"path": "/bin/true"}]},
  "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}],
            "resources": {"memory": {"limit": 1024}}}
})";

struct BadCase {
    const char* pointer;  // JSON pointer into kBase to set (or remove when value is nullptr)
    const char* value;    // JSON text
    const char* error;    // the exact message
};

std::string apply(const BadCase& c) {
    json doc = json::parse(kBase);
    json::json_pointer ptr(c.pointer);
    if (c.value == nullptr)
        doc[ptr.parent_pointer()].erase(ptr.back());
    else
        doc[ptr] = json::parse(c.value);
    return doc.dump();
}

class SpecValidate : public ::testing::TestWithParam<BadCase> {};

TEST(SpecValidateBase, BaseIsValid) {
    EXPECT_NO_THROW(parse_spec(kBase));
}

TEST_P(SpecValidate, NamesPathAndProblem) {
    const BadCase& c = GetParam();
    std::string text = apply(c);
    try {
        parse_spec(text);
        FAIL() << "accepted: " << text;
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), c.error) << text;
    }
}

const BadCase kCases[] = {
    // types and ranges
    {"/linux/resources/memory/limit", R"("64m")",
     "linux.resources.memory.limit: expected integer, got string"},
    {"/linux/resources/memory/limit", "1.5",
     "linux.resources.memory.limit: expected integer, got number 1.5"},
    {"/linux/resources/memory/limit", "18446744073709551615",
     "linux.resources.memory.limit: 18446744073709551615 is out of range for int64"},
    {"/linux/resources/memory/swappiness", "-1",
     "linux.resources.memory.swappiness: -1 is out of range for uint64"},
    {"/process/user/uid", "4294967296", "process.user.uid: 4294967296 is out of range for uint32"},
    {"/process/user/uid", "-1", "process.user.uid: -1 is out of range for uint32"},
    {"/process/user/additionalGids", "[1, \"x\"]",
     "process.user.additionalGids[1]: expected integer, got string"},
    {"/linux/resources/blockIO", R"({"weight": 70000})",
     "linux.resources.blockIO.weight: 70000 is out of range for uint16"},
    {"/process/terminal", "1", "process.terminal: expected boolean, got integer"},
    {"/process/args", R"("sh")", "process.args: expected array, got string"},
    {"/process/env", R"(["A=1", 2])", "process.env[1]: expected string, got integer"},
    {"/process/env", R"(["NOEQUALS"])", "process.env[0]: \"NOEQUALS\" is not in KEY=VALUE form"},
    {"/process", "[]", "process: expected object, got array"},
    {"/linux/resources/memory/limit", "1e30",
     "linux.resources.memory.limit: 1e+30 is out of range for int64"},
    {"/annotations", R"({"a": 1})", "annotations[\"a\"]: expected string, got integer"},
    {"/linux/sysctl", R"({"net.ipv4.ip_forward": true})",
     "linux.sysctl[\"net.ipv4.ip_forward\"]: expected string, got boolean"},
    {"/process/oomScoreAdj", "1001", "process.oomScoreAdj: 1001 is out of range -1000..1000"},
    {"/process/user/umask", "512", "process.user.umask: 01000 is not a file mode mask (max 0777)"},
    // ociVersion
    {"/ociVersion", nullptr, "ociVersion: required"},
    {"/ociVersion", R"("2.0.0")", "ociVersion: unsupported version \"2.0.0\" (want 1.x)"},
    {"/ociVersion", R"("1")", "ociVersion: unsupported version \"1\" (want 1.x)"},
    {"/ociVersion", "1", "ociVersion: expected string, got integer"},
    // process
    {"/process/args", nullptr, "process.args: required (the program to run)"},
    {"/process/args", "[]", "process.args: required (the program to run)"},
    {"/process/cwd", R"("work")", "process.cwd: must be an absolute path, got \"work\""},
    {"/process/capabilities", R"({"bounding": ["CAP_KILL", "CAP_FLY"]})",
     "process.capabilities.bounding[1]: unknown capability \"CAP_FLY\""},
    {"/process/capabilities", R"({"ambient": ["cap_kill"]})",
     "process.capabilities.ambient[0]: unknown capability \"cap_kill\""},
    {"/process/rlimits", R"([{"type": "RLIMIT_FOO", "hard": 1, "soft": 1}])",
     "process.rlimits[0].type: unknown rlimit type \"RLIMIT_FOO\""},
    {"/process/rlimits", R"([{"hard": 1, "soft": 1}])", "process.rlimits[0].type: required"},
    {"/process/rlimits",
     R"([{"type": "RLIMIT_NOFILE", "hard": 1, "soft": 1}, {"type": "RLIMIT_NOFILE", "hard": 2, "soft": 2}])",
     "process.rlimits[1].type: duplicate rlimit type \"RLIMIT_NOFILE\""},
    {"/process/rlimits", R"([{"type": "RLIMIT_NOFILE", "hard": 1, "soft": 2}])",
     "process.rlimits[0]: soft limit 2 is above hard limit 1"},
    {"/process/scheduler", R"({"policy": "SCHED_FAST"})",
     "process.scheduler.policy: unknown scheduler policy \"SCHED_FAST\""},
    {"/process/scheduler", R"({"nice": 1})", "process.scheduler.policy: required"},
    {"/process/scheduler", R"({"policy": "SCHED_OTHER", "flags": ["X"]})",
     "process.scheduler.flags[0]: unknown scheduler flag \"X\""},
    {"/process/scheduler", R"({"policy": "SCHED_OTHER", "nice": 20})",
     "process.scheduler.nice: 20 is out of range -20..19"},
    {"/process/ioPriority", R"({"class": "IOPRIO_CLASS_FAST", "priority": 1})",
     "process.ioPriority.class: unknown ioPriority class \"IOPRIO_CLASS_FAST\""},
    {"/process/ioPriority", R"({"class": "IOPRIO_CLASS_RT", "priority": 8})",
     "process.ioPriority.priority: 8 is out of range 0..7"},
    {"/process/execCPUAffinity", R"({"initial": "0-x"})",
     "process.execCPUAffinity.initial: invalid CPU list \"0-x\""},
    {"/process/execCPUAffinity", R"({"final": "3-1"})",
     "process.execCPUAffinity.final: invalid CPU list \"3-1\""},
    // root, mounts
    {"/root/path", nullptr, "root.path: required"},
    {"/root/path", R"("")", "root.path: must not be empty"},
    {"/mounts/0/destination", R"("proc")",
     "mounts[0].destination: must be an absolute path, got \"proc\""},
    {"/mounts/0/destination", nullptr, "mounts[0].destination: required"},
    {"/mounts/0/options", R"(["ro", null])", "mounts[0].options[1]: expected string, got null"},
    {"/mounts/0/uidMappings", R"([{"containerID": 0, "hostID": -5, "size": 1}])",
     "mounts[0].uidMappings[0].hostID: -5 is out of range for uint32"},
    // hooks
    {"/hooks/prestart/0/path", R"("true")",
     "hooks.prestart[0].path: must be an absolute path, got \"true\""},
    {"/hooks/prestart/0/path", R"("")",
     "hooks.prestart[0].path: must be an absolute path, got \"\""},
    {"/hooks/poststop", R"([{"path": "/bin/x", "timeout": 0}])",
     "hooks.poststop[0].timeout: must be > 0, got 0"},
    {"/hooks/createRuntime", R"([{"path": "/bin/x", "timeout": -3}])",
     "hooks.createRuntime[0].timeout: must be > 0, got -3"},
    {"/hooks/startContainer", R"([{"args": []}])", "hooks.startContainer[0].path: required"},
    // linux
    {"/linux/namespaces/1/type", R"("netns")",
     "linux.namespaces[1].type: unknown namespace type \"netns\""},
    {"/linux/namespaces/1/type", R"("pid")",
     "linux.namespaces[1].type: duplicate namespace type \"pid\""},
    {"/linux/namespaces/1/path", R"("ns/net")",
     "linux.namespaces[1].path: must be an absolute path, got \"ns/net\""},
    {"/linux/rootfsPropagation", R"("recursive")",
     "linux.rootfsPropagation: unknown rootfs propagation \"recursive\""},
    {"/linux/devices", R"([{"path": "/dev/x", "type": "q", "major": 1, "minor": 1}])",
     "linux.devices[0].type: unknown device type \"q\" (want c, b, u or p)"},
    {"/linux/devices", R"([{"path": "dev/x", "type": "c", "major": 1, "minor": 1}])",
     "linux.devices[0].path: must be an absolute path, got \"dev/x\""},
    {"/linux/devices", R"([{"path": "/dev/x", "type": "c", "minor": 1}])",
     "linux.devices[0].major: required for device type c"},
    // 8 bits above the file-type bits: no mode_t has them (020666, as podman passes, is fine).
    {"/linux/devices",
     R"([{"path": "/dev/x", "type": "c", "major": 1, "minor": 1, "fileMode": 65536}])",
     "linux.devices[0].fileMode: 0200000 is not a file mode (max 0177777)"},
    {"/linux/resources/devices", R"([{"allow": true, "type": "x"}])",
     "linux.resources.devices[0].type: unknown device type \"x\" (want a, b or c)"},
    {"/linux/resources/devices", R"([{"allow": true, "access": "rwx"}])",
     "linux.resources.devices[0].access: invalid access \"rwx\" (want letters of rwm)"},
    {"/linux/resources/devices", R"([{"allow": "yes"}])",
     "linux.resources.devices[0].allow: expected boolean, got string"},
    {"/linux/resources/cpu", R"({"cpus": "0,,1"})",
     "linux.resources.cpu.cpus: invalid CPU list \"0,,1\""},
    {"/linux/resources/pids", R"({"limit": "max"})",
     "linux.resources.pids.limit: expected integer, got string"},
    {"/linux/resources/hugepageLimits", R"([{"limit": 1}])",
     "linux.resources.hugepageLimits[0].pageSize: required"},
    {"/linux/resources/rdma", R"({"mlx5_1": {"hcaHandles": -1}})",
     "linux.resources.rdma[\"mlx5_1\"].hcaHandles: -1 is out of range for uint32"},
    {"/linux/resources/network", R"({"classID": 4294967296})",
     "linux.resources.network.classID: 4294967296 is out of range for uint32"},
    {"/linux/resources/unified", R"({"memory.max": 5})",
     "linux.resources.unified[\"memory.max\"]: expected string, got integer"},
    {"/linux/seccomp", R"({"defaultAction": "SCMP_ACT_FOO"})",
     "linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_FOO\""},
    {"/linux/seccomp", R"({"architectures": []})", "linux.seccomp.defaultAction: required"},
    {"/linux/seccomp", R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_Z80"]})",
     "linux.seccomp.architectures[0]: unknown seccomp architecture \"SCMP_ARCH_Z80\""},
    {"/linux/seccomp", R"({"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_X"]})",
     "linux.seccomp.flags[0]: unknown seccomp flag \"SECCOMP_FILTER_FLAG_X\""},
    {"/linux/seccomp",
     R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_NOPE"}]})",
     "linux.seccomp.syscalls[0].action: unknown seccomp action \"SCMP_ACT_NOPE\""},
    {"/linux/seccomp",
     R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_LIKE"}]}]})",
     "linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator \"SCMP_CMP_LIKE\""},
    {"/linux/seccomp",
     R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]})",
     "linux.seccomp.syscalls[0].args[0].index: 6 is out of range 0..5"},
    {"/linux/seccomp",
     R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [], "action": "SCMP_ACT_ERRNO"}]})",
     "linux.seccomp.syscalls[0].names: required (at least one syscall name)"},
    {"/linux/seccomp",
     R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_NOTIFY"}]})",
     "linux.seccomp.listenerPath: required when an action is SCMP_ACT_NOTIFY"},
    {"/linux/personality", R"({"domain": "LINUX64"})",
     "linux.personality.domain: unknown personality domain \"LINUX64\""},
    {"/linux/memoryPolicy", R"({"mode": "MPOL_ANY"})",
     "linux.memoryPolicy.mode: unknown memory policy mode \"MPOL_ANY\""},
    {"/linux/memoryPolicy", R"({"mode": "MPOL_BIND", "flags": ["MPOL_F_X"]})",
     "linux.memoryPolicy.flags[0]: unknown memory policy flag \"MPOL_F_X\""},
    {"/linux/timeOffsets", R"({"realtime": {"secs": 1}})",
     "linux.timeOffsets[\"realtime\"]: unknown clock \"realtime\" (want monotonic or boottime)"},
    {"/linux/timeOffsets", R"({"boottime": {"nanosecs": 1000000000}})",
     "linux.timeOffsets[\"boottime\"].nanosecs: 1000000000 is not below 1000000000"},
    {"/linux/netDevices", R"({"eth0": {"name": "a/b"}})",
     "linux.netDevices[\"eth0\"].name: invalid network device name \"a/b\""},
    {"/linux/netDevices", R"({"averyveryverylongname": {}})",
     "linux.netDevices[\"averyveryverylongname\"]: invalid network device name "
     "\"averyveryverylongname\""},
    {"/linux/maskedPaths", R"(["proc/kcore"])",
     "linux.maskedPaths[0]: must be an absolute path, got \"proc/kcore\""},
    {"/linux/uidMappings", R"({"containerID": 0})",
     "linux.uidMappings: expected array, got object"},
};

INSTANTIATE_TEST_SUITE_P(BadConfigs, SpecValidate, ::testing::ValuesIn(kCases));

TEST(SpecValidateSyntax, InvalidJsonSaysWhere) {
    try {
        parse_spec("{\"ociVersion\": \"1.0.0\",}");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()).rfind("invalid JSON: parse error at line 1, column 24", 0),
                  0u)
            << e.what();
    }
    EXPECT_THROW(parse_spec("[]"), Error);
    EXPECT_THROW(parse_spec(""), Error);
}

TEST(SpecValidateSyntax, UnknownKeysAreIgnored) {
    EXPECT_NO_THROW(parse_spec(R"({"ociVersion": "1.0.0", "solaris": {"milestone": 1},
        "process": {"args": ["x"], "commandLine": "x"}, "linux": {"newThing": [1]}})"));
}

TEST(SpecValidateSyntax, LoadSpecPrefixesThePath) {
    try {
        load_spec("/nonexistent/husk-oci-test/config.json");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(
            std::string(e.what()),
            "open \"/nonexistent/husk-oci-test/config.json\": ENOENT (No such file or directory)");
    }
    char path[] = "/tmp/oci-spec-test-XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    std::string text = R"({"ociVersion": "1.0.0", "process": {"args": ["x"], "cwd": "rel"}})";
    ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    close(fd);
    try {
        load_spec(path);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  std::string(path) + ": process.cwd: must be an absolute path, got \"rel\"");
    }
    unlink(path);
}

}  // namespace
}  // namespace husk::oci
