// parse_spec: every field is read, and every bad input names its JSON path.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>

#include "oci/spec.h"
#include "oci_test_configs.h"
#include "sys/error.h"

namespace husk::oci {
namespace {

using nlohmann::json;
using testdata::kFullConfig;
using testdata::kPodmanConfig;

TEST(SpecParse, ReadsProcess) {
    Spec s = parse_spec(kFullConfig);
    EXPECT_EQ(s.oci_version, "1.3.0");
    ASSERT_TRUE(s.process);
    const Process& p = *s.process;
    EXPECT_TRUE(p.terminal);
    ASSERT_TRUE(p.console_size);
    EXPECT_EQ(p.console_size->height, 24u);
    EXPECT_EQ(p.console_size->width, 80u);
    EXPECT_EQ(p.user.uid, 1000u);
    EXPECT_EQ(p.user.gid, 1001u);
    EXPECT_EQ(p.user.umask, 18u);
    EXPECT_EQ(p.user.additional_gids, (std::vector<uint32_t>{5, 10}));
    EXPECT_EQ(p.user.username, "alice");
    EXPECT_EQ(p.args, (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
    EXPECT_EQ(p.env.size(), 3u);
    EXPECT_EQ(p.cwd, "/work");
    ASSERT_TRUE(p.capabilities);
    EXPECT_EQ(p.capabilities->bounding.size(), 5u);
    EXPECT_EQ(p.capabilities->bounding[4], "CAP_CHECKPOINT_RESTORE");
    EXPECT_EQ(p.capabilities->effective, (std::vector<std::string>{"CAP_KILL"}));
    EXPECT_EQ(p.capabilities->inheritable, (std::vector<std::string>{"CAP_NET_RAW"}));
    EXPECT_EQ(p.capabilities->permitted.size(), 2u);
    EXPECT_EQ(p.capabilities->ambient, (std::vector<std::string>{"CAP_NET_BIND_SERVICE"}));
    ASSERT_EQ(p.rlimits.size(), 2u);
    EXPECT_EQ(p.rlimits[0].type, "RLIMIT_NOFILE");
    EXPECT_EQ(p.rlimits[0].hard, 4096u);
    EXPECT_EQ(p.rlimits[0].soft, 1024u);
    EXPECT_EQ(p.rlimits[1].hard, UINT64_MAX);
    EXPECT_TRUE(p.no_new_privileges);
    EXPECT_EQ(p.apparmor_profile, "husk-default");
    EXPECT_EQ(p.oom_score_adj, -500);
    EXPECT_EQ(p.selinux_label, "system_u:system_r:container_t:s0");
    ASSERT_TRUE(p.scheduler);
    EXPECT_EQ(p.scheduler->policy, "SCHED_DEADLINE");
    EXPECT_EQ(p.scheduler->nice, -5);
    EXPECT_EQ(p.scheduler->priority, 3);
    EXPECT_EQ(p.scheduler->flags.size(), 2u);
    EXPECT_EQ(p.scheduler->runtime, 1000000u);
    EXPECT_EQ(p.scheduler->deadline, 2000000u);
    EXPECT_EQ(p.scheduler->period, 3000000u);
    ASSERT_TRUE(p.io_priority);
    EXPECT_EQ(p.io_priority->io_class, "IOPRIO_CLASS_BE");
    EXPECT_EQ(p.io_priority->priority, 4);
    ASSERT_TRUE(p.exec_cpu_affinity);
    EXPECT_EQ(p.exec_cpu_affinity->initial, "0");
    EXPECT_EQ(p.exec_cpu_affinity->final_, "0-3,7");
}

TEST(SpecParse, ReadsRootMountsHooksAnnotations) {
    Spec s = parse_spec(kFullConfig);
    ASSERT_TRUE(s.root);
    EXPECT_EQ(s.root->path, "/var/lib/husk/rootfs");
    EXPECT_TRUE(s.root->readonly);
    EXPECT_EQ(s.hostname, "box");
    EXPECT_EQ(s.domainname, "example.org");
    ASSERT_EQ(s.mounts.size(), 2u);
    EXPECT_EQ(s.mounts[0].destination, "/proc");
    EXPECT_TRUE(s.mounts[0].options.empty());
    const Mount& m = s.mounts[1];
    EXPECT_EQ(m.type, "bind");
    EXPECT_EQ(m.source, "/srv/data");
    EXPECT_EQ(m.options, (std::vector<std::string>{"rbind", "ro", "idmap"}));
    ASSERT_EQ(m.uid_mappings.size(), 1u);
    EXPECT_EQ(m.uid_mappings[0].host_id, 100000u);
    EXPECT_EQ(m.uid_mappings[0].size, 65536u);
    EXPECT_EQ(m.gid_mappings[0].host_id, 200000u);
    ASSERT_TRUE(s.hooks);
    ASSERT_EQ(s.hooks->prestart.size(), 1u);
    EXPECT_EQ(s.hooks->prestart[0].path, "/usr/bin/pre");
    EXPECT_EQ(s.hooks->prestart[0].args, (std::vector<std::string>{"pre", "-x"}));
    EXPECT_EQ(s.hooks->prestart[0].env, (std::vector<std::string>{"A=1"}));
    EXPECT_EQ(s.hooks->prestart[0].timeout, 5);
    EXPECT_EQ(s.hooks->create_runtime.size(), 1u);
    EXPECT_FALSE(s.hooks->create_runtime[0].timeout);
    EXPECT_EQ(s.hooks->create_container.size(), 1u);
    EXPECT_EQ(s.hooks->start_container[0].timeout, 1);
    EXPECT_EQ(s.hooks->poststart.size(), 2u);
    EXPECT_EQ(s.hooks->poststop[0].env.size(), 2u);
    EXPECT_EQ(s.annotations.at("org.example.key"), "value");
    EXPECT_EQ(s.annotations.at("io.husk.empty"), "");
}

TEST(SpecParse, ReadsLinux) {
    Spec s = parse_spec(kFullConfig);
    ASSERT_TRUE(s.linux_);
    const Linux& l = *s.linux_;
    EXPECT_EQ(l.uid_mappings.size(), 2u);
    EXPECT_EQ(l.uid_mappings[1].container_id, 1u);
    EXPECT_EQ(l.gid_mappings.size(), 1u);
    EXPECT_EQ(l.sysctl.at("net.ipv4.ip_forward"), "1");
    EXPECT_EQ(l.cgroups_path, "/husk/test");
    EXPECT_EQ(l.namespaces.size(), 8u);
    ASSERT_NE(l.find_namespace("network"), nullptr);
    EXPECT_EQ(l.find_namespace("network")->path, "/var/run/netns/test");
    ASSERT_EQ(l.devices.size(), 3u);
    EXPECT_EQ(l.devices[0].path, "/dev/fuse");
    EXPECT_EQ(l.devices[0].major, 10);
    EXPECT_EQ(l.devices[0].minor, 229);
    EXPECT_EQ(l.devices[0].file_mode, 0666u);
    EXPECT_EQ(l.devices[0].uid, 0u);
    EXPECT_FALSE(l.devices[1].file_mode);
    EXPECT_EQ(l.net_devices.at("eth1").name, "net1");
    EXPECT_EQ(l.net_devices.at("dummy0").name, "");
    EXPECT_EQ(l.rootfs_propagation, "rslave");
    EXPECT_EQ(l.masked_paths.size(), 2u);
    EXPECT_EQ(l.readonly_paths.size(), 2u);
    EXPECT_EQ(l.mount_label, "system_u:object_r:container_file_t:s0");
    ASSERT_TRUE(l.intel_rdt);
    EXPECT_EQ(l.intel_rdt->clos_id, "guaranteed");
    EXPECT_EQ(l.intel_rdt->l3_cache_schema, "L3:0=7f0;1=1f");
    EXPECT_EQ(l.intel_rdt->mem_bw_schema, "MB:0=20;1=70");
    EXPECT_EQ(l.intel_rdt->schemata, (std::vector<std::string>{"L2:0=ff"}));
    EXPECT_TRUE(l.intel_rdt->enable_cmt);
    EXPECT_TRUE(l.intel_rdt->enable_mbm);
    EXPECT_TRUE(l.intel_rdt->enable_monitoring);
    ASSERT_TRUE(l.memory_policy);
    EXPECT_EQ(l.memory_policy->mode, "MPOL_INTERLEAVE");
    EXPECT_EQ(l.memory_policy->nodes, "0-1");
    EXPECT_EQ(l.memory_policy->flags, (std::vector<std::string>{"MPOL_F_STATIC_NODES"}));
    ASSERT_TRUE(l.personality);
    EXPECT_EQ(l.personality->domain, "LINUX32");
    EXPECT_EQ(l.time_offsets.at("monotonic").secs, 3600);
    EXPECT_EQ(l.time_offsets.at("monotonic").nanosecs, 500u);
    EXPECT_EQ(l.time_offsets.at("boottime").secs, -7200);
}

TEST(SpecParse, ReadsResources) {
    Spec s = parse_spec(kFullConfig);
    const Resources& r = *s.linux_->resources;
    ASSERT_EQ(r.devices.size(), 3u);
    EXPECT_FALSE(r.devices[0].allow);
    EXPECT_EQ(r.devices[0].type, "");
    EXPECT_FALSE(r.devices[0].major);
    EXPECT_EQ(r.devices[0].access, "rwm");
    EXPECT_TRUE(r.devices[1].allow);
    EXPECT_EQ(r.devices[1].major, 1);
    EXPECT_EQ(r.devices[1].minor, 3);
    EXPECT_FALSE(r.devices[2].minor);
    ASSERT_TRUE(r.memory);
    EXPECT_EQ(r.memory->limit, 536870912);
    EXPECT_EQ(r.memory->reservation, 268435456);
    EXPECT_EQ(r.memory->swap, -1);
    EXPECT_EQ(r.memory->kernel, 1048576);
    EXPECT_EQ(r.memory->kernel_tcp, 2097152);
    EXPECT_EQ(r.memory->swappiness, 60u);
    EXPECT_EQ(r.memory->disable_oom_killer, true);
    EXPECT_EQ(r.memory->use_hierarchy, false);
    EXPECT_EQ(r.memory->check_before_update, true);
    ASSERT_TRUE(r.cpu);
    EXPECT_EQ(r.cpu->shares, 1024u);
    EXPECT_EQ(r.cpu->quota, 50000);
    EXPECT_EQ(r.cpu->burst, 10000u);
    EXPECT_EQ(r.cpu->period, 100000u);
    EXPECT_EQ(r.cpu->realtime_runtime, 950000);
    EXPECT_EQ(r.cpu->realtime_period, 1000000u);
    EXPECT_EQ(r.cpu->cpus, "0-1");
    EXPECT_EQ(r.cpu->mems, "0");
    EXPECT_EQ(r.cpu->idle, 1);
    ASSERT_TRUE(r.pids);
    EXPECT_EQ(r.pids->limit, 100);
    ASSERT_TRUE(r.block_io);
    EXPECT_EQ(r.block_io->weight, 500);
    EXPECT_EQ(r.block_io->leaf_weight, 300);
    ASSERT_EQ(r.block_io->weight_device.size(), 2u);
    EXPECT_EQ(r.block_io->weight_device[0].weight, 600);
    EXPECT_EQ(r.block_io->weight_device[0].leaf_weight, 200);
    EXPECT_FALSE(r.block_io->weight_device[1].weight);
    EXPECT_EQ(r.block_io->throttle_read_bps_device[0].rate, 1048576u);
    EXPECT_EQ(r.block_io->throttle_write_bps_device[0].rate, 2097152u);
    EXPECT_EQ(r.block_io->throttle_read_iops_device[0].rate, 100u);
    EXPECT_EQ(r.block_io->throttle_write_iops_device[0].rate, 200u);
    ASSERT_EQ(r.hugepage_limits.size(), 2u);
    EXPECT_EQ(r.hugepage_limits[1].page_size, "1GB");
    EXPECT_EQ(r.hugepage_limits[1].limit, 1073741824u);
    ASSERT_TRUE(r.network);
    EXPECT_EQ(r.network->class_id, 1048577u);
    EXPECT_EQ(r.network->priorities[0].name, "eth0");
    EXPECT_EQ(r.network->priorities[0].priority, 500u);
    EXPECT_EQ(r.rdma.at("mlx5_1").hca_handles, 3u);
    EXPECT_EQ(r.rdma.at("mlx5_1").hca_objects, 10000u);
    EXPECT_FALSE(r.rdma.at("mlx4_0").hca_handles);
    EXPECT_EQ(r.unified.at("io.max"), "8:0 rbps=1048576");
}

TEST(SpecParse, ReadsSeccomp) {
    Spec s = parse_spec(kFullConfig);
    const Seccomp& sc = *s.linux_->seccomp;
    EXPECT_EQ(sc.default_action, "SCMP_ACT_ERRNO");
    EXPECT_EQ(sc.default_errno_ret, 1u);
    EXPECT_EQ(sc.architectures.size(), 3u);
    EXPECT_EQ(sc.flags.size(), 2u);
    EXPECT_EQ(sc.listener_path, "/run/seccomp-agent.sock");
    EXPECT_EQ(sc.listener_metadata, "agent-metadata");
    ASSERT_EQ(sc.syscalls.size(), 4u);
    EXPECT_EQ(sc.syscalls[0].names, (std::vector<std::string>{"read", "write"}));
    EXPECT_FALSE(sc.syscalls[0].errno_ret);
    ASSERT_EQ(sc.syscalls[1].args.size(), 2u);
    EXPECT_EQ(sc.syscalls[1].args[0].value, 4294967295u);
    EXPECT_EQ(sc.syscalls[1].args[0].op, "SCMP_CMP_EQ");
    EXPECT_EQ(sc.syscalls[1].args[1].index, 1u);
    EXPECT_EQ(sc.syscalls[1].args[1].value_two, 8u);
    EXPECT_EQ(sc.syscalls[3].errno_ret, 38u);
}

TEST(SpecParse, MinimalConfigLeavesOptionalFieldsEmpty) {
    Spec s = parse_spec(R"({"ociVersion": "1.0.0"})");
    EXPECT_FALSE(s.process);
    EXPECT_FALSE(s.root);
    EXPECT_FALSE(s.hostname);
    EXPECT_FALSE(s.hooks);
    EXPECT_FALSE(s.linux_);
    EXPECT_TRUE(s.mounts.empty());
}

TEST(SpecParse, NullMeansAbsent) {
    Spec s = parse_spec(R"({"ociVersion": "1.2.0", "process": {"args": ["sh"], "user": null,
        "capabilities": null, "cwd": null}, "hooks": null, "linux": {"resources": null}})");
    ASSERT_TRUE(s.process);
    EXPECT_FALSE(s.process->capabilities);
    EXPECT_EQ(s.process->cwd, "/");
    EXPECT_FALSE(s.hooks);
    EXPECT_FALSE(s.linux_->resources);
}

TEST(SpecParse, PodmanConfigParses) {
    Spec s = parse_spec(kPodmanConfig);
    EXPECT_EQ(s.oci_version, "1.0.2-dev");
    EXPECT_EQ(s.process->user.additional_gids.size(), 11u);
    EXPECT_EQ(s.process->capabilities->bounding.size(), 11u);
    EXPECT_EQ(s.process->oom_score_adj, 0);
    EXPECT_EQ(s.mounts.size(), 11u);
    EXPECT_EQ(s.mounts[5].destination, "/etc/hostname");
    ASSERT_TRUE(s.hooks);
    EXPECT_TRUE(s.hooks->prestart.empty());
    EXPECT_EQ(s.linux_->cgroups_path, "machine.slice:libpod:3f2a1b0c9d8e");
    EXPECT_EQ(s.linux_->resources->pids->limit, 2048);
    EXPECT_EQ(s.linux_->seccomp->syscalls.size(), 4u);
    EXPECT_EQ(s.linux_->seccomp->default_errno_ret, 38u);
    EXPECT_EQ(s.linux_->masked_paths.size(), 11u);
    EXPECT_EQ(s.annotations.size(), 5u);
}

TEST(SpecParse, ParseProcessUsesProcessRules) {
    Process p = parse_process(R"({"args": ["/bin/ls"], "cwd": "/tmp", "env": ["A=b"],
        "user": {"uid": 5, "gid": 6}, "terminal": true})");
    EXPECT_EQ(p.args[0], "/bin/ls");
    EXPECT_EQ(p.cwd, "/tmp");
    EXPECT_EQ(p.user.uid, 5u);
    EXPECT_TRUE(p.terminal);
    try {
        parse_process(R"({"args": ["ls"], "rlimits": [{"type": "RLIMIT_BOGUS"}]})");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "rlimits[0].type: unknown rlimit type \"RLIMIT_BOGUS\"");
    }
    EXPECT_THROW(parse_process(R"({"args": []})"), Error);
    EXPECT_THROW(parse_process("[1]"), Error);
}

std::string parse_error(const std::string& text) {
    try {
        parse_spec(text);
    } catch (const Error& e) {
        return e.what();
    }
    return "accepted";
}

// nlohmann's own "[json.exception.out_of_range.406] number overflow parsing '1e400'" named
// no field; the message names it as every other bad value does.
TEST(SpecParseBadInput, NumberBeyondADoubleNamesItsField) {
    EXPECT_EQ(parse_error(R"({"ociVersion": "1.2.0", "linux": {"resources":
        {"memory": {"limit": 1e400}}}})"),
              "linux.resources.memory.limit: number 1e400 is out of range");
    EXPECT_EQ(parse_error(R"({"ociVersion": "1.2.0", "process": {"args": ["sh"],
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1, "soft": 1}, {"hard": -1e999}]}})"),
              "process.rlimits[1].hard: number -1e999 is out of range");
    EXPECT_EQ(parse_error(R"([[1, 2], [3, 1e400]])"), "[1][1]: number 1e400 is out of range");
}

// A NUL would cut the C string the kernel gets short without a word (execve would run
// "/bin/echo" with "a" for "a\0b").
TEST(SpecParseBadInput, NulInAStringIsRefusedNamingTheField) {
    EXPECT_EQ(
        parse_error(R"({"ociVersion": "1.2.0", "process": {"args": ["/bin/echo", "a\u0000b"]}})"),
        R"(process.args[1]: "a\x00b" contains a NUL byte)");
    EXPECT_EQ(parse_error(R"({"ociVersion": "1.2.0", "hostname": "h\u0000"})"),
              R"(hostname: "h\x00" contains a NUL byte)");
    EXPECT_EQ(parse_error(R"({"ociVersion": "1.2.0", "annotations": {"k\u0000": "v"}})"),
              R"(annotations["k\x00"]: "k\x00" contains a NUL byte)");
}

// A 10,000-character hostname gave a 4 KB error line: the kernel's limit is checked when
// the config is read, and the value is cut in the message.
TEST(SpecParseBadInput, LongHostnameIsRefusedOnAShortLine) {
    std::string name(10000, 'a');
    std::string err = parse_error(R"({"ociVersion": "1.2.0", "hostname": ")" + name + R"("})");
    EXPECT_EQ(err.rfind("hostname: \"aaaa", 0), 0u) << err;
    EXPECT_NE(err.find("aaaa[…9744 bytes…]aaaa"), std::string::npos) << err;
    EXPECT_TRUE(err.ends_with("aaaa\" is longer than the kernel's 64 bytes")) << err;
    EXPECT_LT(err.size(), 2 * kShownMax) << err;
    std::string uts64(64, 'h');
    EXPECT_EQ(parse_spec(R"({"ociVersion": "1.2.0", "hostname": ")" + uts64 + R"("})").hostname,
              uts64);
    EXPECT_NE(parse_error(R"({"ociVersion": "1.2.0", "domainname": ")" + uts64 + R"(x"})")
                  .find("domainname: "),
              std::string::npos);
}

// A string that never ends: nlohmann quotes all it read; the message stays one short line.
TEST(SpecParseBadInput, UnterminatedLongStringGivesAShortLine) {
    std::string err = parse_error(R"({"ociVersion": ")" + std::string(10000, 'x'));
    EXPECT_EQ(err.rfind("invalid JSON: parse error at line 1, column 10017", 0), 0u) << err;
    EXPECT_LT(err.size(), 2 * kShownMax) << err;
}

// Values in error messages: cut in the middle, escaped onto one line, whole UTF-8 characters.
TEST(ErrorFormat, ValuesAreCutAndEscaped) {
    EXPECT_EQ(shown("short"), "short");
    EXPECT_EQ(shown("a\nb\tc\x01"), "a\\nb\\tc\\x01");
    EXPECT_EQ(shown(std::string("a\0b", 3)), "a\\x00b");
    std::string long_value = std::string(1000, 'x') + "/tail";
    std::string cut = shown(long_value);
    EXPECT_LT(cut.size(), kShownMax + 32);
    EXPECT_EQ(cut.rfind("xxx", 0), 0u);
    EXPECT_TRUE(cut.ends_with("x/tail")) << cut;
    EXPECT_NE(cut.find(" bytes…]"), std::string::npos) << cut;
    // "é" is two bytes: no half of one is left at either side of the cut
    std::string accents;
    for (int i = 0; i < 1000; ++i) accents += "é";
    std::string c2 = shown(accents);
    auto marker = c2.find("[…");
    ASSERT_NE(marker, std::string::npos);
    EXPECT_EQ(marker % 2, 0u) << c2;
    EXPECT_EQ((c2.size() - c2.find("…]") - std::string("…]").size()) % 2, 0u) << c2;
    // error_format shows string arguments, not numbers, and takes exceptions whole
    EXPECT_EQ(
        error_format("{} {} {}", std::string(300, 'y'), 7, Error(std::string(300, 'z'))).size(),
        shown(std::string(300, 'y')).size() + 3 + 300);
}

}  // namespace
}  // namespace husk::oci
