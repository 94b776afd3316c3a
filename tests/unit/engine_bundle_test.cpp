// build_spec: what `husk run`'s flags make of a container's config.json (namespaces,
// mounts, resources, env, user), with docker's defaults where no flag says otherwise.
// The root is a temporary directory with its own /etc/passwd; nothing is mounted.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdlib.h>

#include <algorithm>
#include <functional>
#include <sstream>

#include "engine/bundle.h"
#include "engine/options.h"
#include "sys/error.h"
#include "sys/fileutil.h"

using namespace husk;
using namespace husk::engine;
using ::testing::StrEq;
using ::testing::ThrowsMessage;

namespace {

// Throws husk::Error with exactly this line.
auto throws_line(const char* line) {
    return ThrowsMessage<Error>(StrEq(line));
}

class BuildSpec : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/husk-build-spec-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        sys::mkdir_all(dir_ + "/rootfs/etc", 0755);
        sys::mkdir_all(dir_ + "/bundle", 0755);
        sys::write_file(dir_ + "/rootfs/etc/passwd",
                        "root:x:0:0:root:/root:/bin/sh\n"
                        "bob:x:1000:1000:bob:/home/bob:/bin/sh\n");
        sys::write_file(dir_ + "/rootfs/etc/group", "root:x:0:\nbob:x:1000:\nwheel:x:10:bob\n");
        in_.rootfs = dir_ + "/rootfs";
        in_.id = "c0ffee";
        in_.hostname = "box";
        in_.bundle_dir = dir_ + "/bundle";
        in_.swap_limit_supported = [] { return true; };
        o_.rootfs = in_.rootfs;
        o_.command = {"/bin/true"};
    }
    void TearDown() override { sys::remove_all(dir_); }

    static std::vector<std::string> namespaces(const oci::Spec& s) {
        std::vector<std::string> out;
        for (auto& n : s.linux_->namespaces) out.push_back(n.type);
        return out;
    }
    static const oci::Mount* mount_at(const oci::Spec& s, const std::string& dst) {
        for (auto& m : s.mounts)
            if (m.destination == dst) return &m;
        return nullptr;
    }
    static bool has(const std::vector<std::string>& v, const std::string& x) {
        return std::find(v.begin(), v.end(), x) != v.end();
    }

    std::string dir_;
    BundleInputs in_;
    RunOptions o_;
};

}  // namespace

TEST_F(BuildSpec, DefaultsAreDockersNamespacesUserEnvAndCgroup) {
    oci::Spec s = build_spec(o_, in_);
    EXPECT_EQ(s.process->args, (std::vector<std::string>{"/bin/true"}));
    EXPECT_EQ(namespaces(s),
              (std::vector<std::string>{"pid", "ipc", "uts", "mount", "cgroup", "network"}));
    EXPECT_TRUE(s.linux_->uid_mappings.empty());
    EXPECT_EQ(s.process->user.uid, 0u);
    EXPECT_EQ(s.process->user.gid, 0u);
    EXPECT_EQ(s.process->cwd, "/");
    EXPECT_EQ(s.process->env[0],
              "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    EXPECT_TRUE(has(s.process->env, "HOSTNAME=box"));
    EXPECT_TRUE(has(s.process->env, "HOME=/root"));
    EXPECT_EQ(s.hostname, "box");
    EXPECT_EQ(s.linux_->cgroups_path, "/husk/c0ffee");
    EXPECT_TRUE(s.linux_->seccomp.has_value());
    EXPECT_FALSE(s.linux_->masked_paths.empty());
    EXPECT_FALSE(s.linux_->resources->memory.has_value());
    EXPECT_FALSE(s.linux_->resources->cpu.has_value());
    // the bundle's own /etc files are bound in
    for (auto* f : {"hostname", "hosts", "resolv.conf"}) {
        const oci::Mount* m = mount_at(s, std::string("/etc/") + f);
        ASSERT_NE(m, nullptr) << f;
        EXPECT_EQ(m->source, in_.bundle_dir + "/" + f);
        EXPECT_TRUE(has(m->options, "rbind"));
    }
    EXPECT_EQ(mount_at(s, "/sys")->type, "sysfs");
}

TEST_F(BuildSpec, HostNetworkHasNoNetworkNamespaceAndBindsTheHostsSys) {
    o_.network = NetworkMode::host;
    oci::Spec s = build_spec(o_, in_);
    EXPECT_FALSE(has(namespaces(s), "network"));
    const oci::Mount* sys = mount_at(s, "/sys");
    ASSERT_NE(sys, nullptr);
    EXPECT_EQ(sys->type, "bind");
    EXPECT_EQ(sys->source, "/sys");
    EXPECT_TRUE(has(sys->options, "ro"));
    // the other modes keep their own network namespace (ports are published into it)
    for (auto mode : {NetworkMode::bridge, NetworkMode::none}) {
        o_.network = mode;
        o_.publish = {network::parse_publish("127.0.0.1:8080:80")};
        EXPECT_TRUE(has(namespaces(build_spec(o_, in_)), "network")) << to_string(mode);
    }
}

TEST_F(BuildSpec, UserNamespaceCarriesTheContainersIdMaps) {
    image::IdShift shift;
    shift.uid_maps = {{0, 300000, 1000}, {1000, 310000, 64536}};
    shift.gid_maps = {{0, 400000, 65536}};
    in_.userns = shift;
    oci::Spec s = build_spec(o_, in_);
    EXPECT_TRUE(has(namespaces(s), "user"));
    ASSERT_EQ(s.linux_->uid_mappings.size(), 2u);
    EXPECT_EQ(s.linux_->uid_mappings[1].container_id, 1000u);
    EXPECT_EQ(s.linux_->uid_mappings[1].host_id, 310000u);
    EXPECT_EQ(s.linux_->uid_mappings[1].size, 64536u);
    ASSERT_EQ(s.linux_->gid_mappings.size(), 1u);
    EXPECT_EQ(s.linux_->gid_mappings[0].host_id, 400000u);
    // with the host's network a user-namespaced container still mounts its own sysfs
    o_.network = NetworkMode::host;
    EXPECT_EQ(mount_at(build_spec(o_, in_), "/sys")->type, "sysfs");
}

TEST_F(BuildSpec, UserEnvAndWorkdirFromTheFlags) {
    o_.user = "bob";
    o_.env = {"A=1", "HOSTNAME=mine"};
    o_.tty = true;
    oci::Spec s = build_spec(o_, in_);
    EXPECT_EQ(s.process->user.uid, 1000u);
    EXPECT_EQ(s.process->user.gid, 1000u);
    EXPECT_EQ(s.process->user.additional_gids, (std::vector<uint32_t>{10}));
    EXPECT_TRUE(has(s.process->env, "A=1"));
    EXPECT_TRUE(has(s.process->env, "HOSTNAME=mine"));
    EXPECT_FALSE(has(s.process->env, "HOSTNAME=box"));
    EXPECT_TRUE(has(s.process->env, "HOME=/home/bob"));
    EXPECT_TRUE(has(s.process->env, "TERM=xterm"));
    EXPECT_TRUE(s.process->terminal);
    o_.workdir = "relative";
    EXPECT_THAT(
        [&] { build_spec(o_, in_); },
        throws_line(
            "the working directory 'relative' is invalid, it needs to be an absolute path"));
}

TEST_F(BuildSpec, VolumesTmpfsAndShmSize) {
    sys::mkdir_all(dir_ + "/data", 0755);
    o_.mounts = {parse_volume(dir_ + "/data:/data:ro"), parse_tmpfs("/run:size=1m")};
    o_.shm_size = 128 << 20;
    oci::Spec s = build_spec(o_, in_);
    const oci::Mount* data = mount_at(s, "/data");
    ASSERT_NE(data, nullptr);
    EXPECT_EQ(data->source, dir_ + "/data");
    EXPECT_TRUE(has(data->options, "rbind"));
    EXPECT_TRUE(has(data->options, "ro"));
    const oci::Mount* run = mount_at(s, "/run");
    ASSERT_NE(run, nullptr);
    EXPECT_EQ(run->type, "tmpfs");
    EXPECT_TRUE(has(run->options, "size=1m"));
    EXPECT_TRUE(has(mount_at(s, "/dev/shm")->options, "size=131072k"));
}

TEST_F(BuildSpec, CpuAndPidsResources) {
    o_.cpus = 1.5;
    o_.cpu_shares = 512;
    o_.cpuset_cpus = "0";
    o_.pids_limit = 64;
    oci::Spec s = build_spec(o_, in_);
    const auto& cpu = s.linux_->resources->cpu;
    ASSERT_TRUE(cpu.has_value());
    EXPECT_EQ(cpu->period, 100000u);
    EXPECT_EQ(cpu->quota, 150000);
    EXPECT_EQ(cpu->shares, 512u);
    EXPECT_EQ(cpu->cpus, "0");
    ASSERT_TRUE(s.linux_->resources->pids.has_value());
    EXPECT_EQ(s.linux_->resources->pids->limit, 64);
}

// docker's memory rules, as build_spec applies them (engine::memory_resources).
TEST_F(BuildSpec, MemoryWithoutSwapFlagGetsTwiceTheSwapWhereTheControllerLimitsIt) {
    o_.memory = 32 << 20;
    auto mem = build_spec(o_, in_).linux_->resources->memory;
    ASSERT_TRUE(mem.has_value());
    EXPECT_EQ(mem->limit, 32 << 20);
    EXPECT_EQ(mem->swap, 64 << 20);
    in_.swap_limit_supported = [] { return false; };  // cgroup v1 without swap accounting
    mem = build_spec(o_, in_).linux_->resources->memory;
    EXPECT_EQ(mem->limit, 32 << 20);
    EXPECT_FALSE(mem->swap.has_value());
}

TEST_F(BuildSpec, MemorySwapRules) {
    bool asked = false;
    in_.swap_limit_supported = [&] { return asked = true; };
    o_.memory = 32 << 20;
    o_.memory_swap = -1;
    EXPECT_EQ(build_spec(o_, in_).linux_->resources->memory->swap, -1);
    o_.memory_swap = 100 << 20;
    o_.memory_reservation = 16 << 20;
    auto mem = build_spec(o_, in_).linux_->resources->memory;
    EXPECT_EQ(mem->swap, 100 << 20);
    EXPECT_EQ(mem->reservation, 16 << 20);
    EXPECT_FALSE(asked);  // an explicit --memory-swap needs no probe
    o_.memory_swap = 16 << 20;
    EXPECT_THAT(
        [&] { build_spec(o_, in_); },
        throws_line("minimum memoryswap limit should be larger than memory limit, see usage"));
    o_.memory.reset();
    EXPECT_THAT(
        [&] { build_spec(o_, in_); },
        throws_line("you should always set the memory limit when using the memoryswap limit, see "
                    "usage"));
    o_.memory_swap = -1;  // unlimited swap alone is allowed
    EXPECT_EQ(build_spec(o_, in_).linux_->resources->memory->swap, -1);
    o_.memory = 4 << 20;
    EXPECT_THAT([&] { build_spec(o_, in_); }, throws_line("minimum memory limit allowed is 6MB"));
}

TEST(EngineMemoryFlags, ParsedWithDockersUnitsAndMinusOneOnlyForSwap) {
    RunOptions o;
    parse_memory_flags(o, "32m", "-1", "");
    EXPECT_EQ(o.memory, 32 << 20);
    EXPECT_EQ(o.memory_swap, -1);
    EXPECT_FALSE(o.memory_reservation.has_value());
    EXPECT_THAT(
        [&] { parse_memory_flags(o, "-1", "", ""); },
        throws_line("invalid argument \"-1\" for \"-m, --memory\" flag: invalid size: '-1'"));
    EXPECT_THAT(
        [&] { parse_memory_flags(o, "", "", "12q"); },
        throws_line(
            "invalid argument \"12q\" for \"--memory-reservation\" flag: invalid size: '12q'"));
    RunOptions none;
    parse_memory_flags(none, "", "", "");
    EXPECT_FALSE(memory_resources(none, [] { return true; }).has_value());
}

// On a user-defined network the container's one nameserver is the network's DNS
// responder (its gateway); the host's search and options lines stay; --dns keeps it (its
// servers are the responder's upstreams for the container, as docker's embedded DNS).
TEST_F(BuildSpec, NamedNetworkResolvesThroughItsResponder) {
    auto nameservers = [&] {
        std::vector<std::string> out;
        std::istringstream in(sys::read_file(in_.bundle_dir + "/resolv.conf"));
        for (std::string line; std::getline(in, line);)
            if (line.starts_with("nameserver")) out.push_back(line);
        return out;
    };
    o_.network = NetworkMode::user;
    in_.nameserver = "10.89.0.1";
    write_bundle(build_spec(o_, in_), o_, in_);
    EXPECT_EQ(nameservers(), std::vector<std::string>{"nameserver 10.89.0.1"});
    o_.dns = {"192.0.2.53"};
    write_bundle(build_spec(o_, in_), o_, in_);
    EXPECT_EQ(nameservers(), std::vector<std::string>{"nameserver 10.89.0.1"});
    // not on a user-defined network: --dns replaces the host's
    in_.nameserver.clear();
    write_bundle(build_spec(o_, in_), o_, in_);
    EXPECT_EQ(nameservers(), std::vector<std::string>{"nameserver 192.0.2.53"});
}
