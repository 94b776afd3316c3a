// Pure parts of turning config.json into the init's plan.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>

#include "oci/spec.h"
#include "runtime/cgroup_mounts.h"
#include "runtime/namespaces.h"
#include "runtime/plan_build.h"
#include "runtime/state.h"
#include "sys/error.h"
#include "sys/fileutil.h"

using namespace husk::runtime;

TEST(Plan, NamespaceNames) {
    EXPECT_EQ(namespace_flag("network"), CLONE_NEWNET);
    EXPECT_EQ(namespace_flag("mount"), CLONE_NEWNS);
    EXPECT_EQ(namespace_flag("time"), CLONE_NEWTIME);
    EXPECT_EQ(namespace_flag("net"), 0);
}

TEST(Plan, RlimitNames) {
    EXPECT_EQ(rlimit_resource("RLIMIT_NOFILE"), RLIMIT_NOFILE);
    EXPECT_EQ(rlimit_resource("RLIMIT_RTTIME"), RLIMIT_RTTIME);
    EXPECT_EQ(rlimit_resource("NOFILE"), -1);
}

TEST(Plan, SysctlsMustBeNamespaced) {
    EXPECT_NO_THROW(check_sysctl("net.ipv4.ip_forward", CLONE_NEWNET));
    EXPECT_NO_THROW(check_sysctl("kernel.shmmax", CLONE_NEWIPC));
    EXPECT_NO_THROW(check_sysctl("fs.mqueue.msg_max", CLONE_NEWIPC));
    EXPECT_THROW(check_sysctl("net.ipv4.ip_forward", CLONE_NEWIPC), husk::Error);
    try {
        check_sysctl("vm.swappiness", CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS);
        FAIL();
    } catch (const husk::Error& e) {
        EXPECT_NE(std::string(e.what()).find("\"vm.swappiness\" is not namespaced"),
                  std::string::npos);
    }
}

TEST(Plan, IdMapFormat) {
    std::vector<husk::oci::IdMapping> m{{0, 100000, 1000}, {1000, 1000, 1}};
    EXPECT_EQ(format_id_map(m, "linux.uidMappings"), "0 100000 1000\n1000 1000 1\n");
    EXPECT_THROW(format_id_map({}, "linux.uidMappings"), husk::Error);
}

TEST(Plan, ContainerIds) {
    EXPECT_NO_THROW(validate_id("web-1_a.b+c"));
    EXPECT_THROW(validate_id("../etc"), husk::Error);
    EXPECT_THROW(validate_id(".."), husk::Error);
    EXPECT_THROW(validate_id(""), husk::Error);
    EXPECT_THROW(validate_id("a b"), husk::Error);
}

// Creating a node is not access to it (runc): the device cgroup rules get the devices
// every container needs, not those of linux.devices.
TEST(Plan, LinuxDevicesAreNotAddedToTheDeviceCgroupRules) {
    husk::oci::Spec spec;
    spec.linux_ = husk::oci::Linux{};
    spec.linux_->resources = husk::oci::Resources{};
    spec.linux_->resources->devices = {{false, "", std::nullopt, std::nullopt, "rwm"}};
    husk::oci::Device fuse;
    fuse.type = "c";
    fuse.path = "/dev/fuse";
    fuse.major = 10;
    fuse.minor = 229;
    spec.linux_->devices = {fuse};
    auto res = effective_resources(spec);
    ASSERT_TRUE(res);
    EXPECT_FALSE(res->devices.front().allow);
    bool null_allowed = false;
    for (const auto& d : res->devices) {
        EXPECT_FALSE(d.major == 10 && d.minor == 229) << "linux.devices' /dev/fuse got a rule";
        null_allowed |= d.allow && d.type == "c" && d.major == 1 && d.minor == 3;
    }
    EXPECT_TRUE(null_allowed);
}

// A rootless overlay root (engine/bundle.cpp): a mount on "/" is the root itself, and a
// lowerdir longer than one fsconfig value (255 bytes) goes one layer at a time, in order.
namespace {

// The default spec with a mount of `type` and `options` on "/" (root.path "/").
husk::oci::Spec spec_with_root_mount(const std::string& type, std::vector<std::string> options) {
    husk::oci::Spec spec = husk::oci::default_spec(false);
    spec.root = husk::oci::Root{"/", false};
    if (spec.linux_) spec.linux_->seccomp.reset();
    husk::oci::Mount root;
    root.destination = "/";
    root.type = root.source = type;
    root.options = std::move(options);
    spec.mounts.push_back(root);
    return spec;
}

// The plan of `spec` on a host without cgroups, its bundle "/".
husk::runtime::Plan plan_of(const husk::oci::Spec& spec) {
    const std::vector<husk::runtime::cgroup::CgroupMount> no_cgroups;
    husk::runtime::PlanInputs in(no_cgroups);
    in.bundle = "/";
    unsigned long flags = 0;
    return husk::runtime::build_plan(spec, in, flags);
}

}  // namespace

TEST(Plan, MountOnRootIsTheRootWithALongLowerdirSplit) {
    std::string a = "/" + std::string(200, 'a'), b = "/" + std::string(200, 'b');
    husk::oci::Spec spec = spec_with_root_mount(
        "overlay", {"userxattr", "lowerdir=" + a + ":" + b, "upperdir=/u", "workdir=/w"});
    auto p = plan_of(spec);
    ASSERT_TRUE(p.has_root_mount);
    std::vector<std::string> lowers;
    for (auto& [k, v] : p.root_mount.opts.params)
        if (k == "lowerdir+") lowers.push_back(v);
    EXPECT_EQ(lowers, (std::vector<std::string>{a, b}));
    for (auto& m : p.mounts) EXPECT_NE(m.target, "/");
    // without a mount namespace of its own, refused
    std::erase_if(spec.linux_->namespaces, [](auto& n) { return n.type == "mount"; });
    EXPECT_THROW(plan_of(spec), husk::Error);
}

// Where the kernel refuses overlayfs in a user namespace (image/userns_overlay.h): a
// fuse-overlayfs root, whose server the parent starts with the mount's options as its -o
// list, long lowerdir and all (no fsconfig value limit there); none of it as a mount.
TEST(Plan, FuseOverlayfsRootKeepsItsOptionsForTheServer) {
    if (husk::sys::find_on_path("fuse-overlayfs").empty())
        GTEST_SKIP() << "fuse-overlayfs is not installed (scripts/deps.sh installs it)";
    std::string a = "/" + std::string(200, 'a'), b = "/" + std::string(200, 'b');
    husk::oci::Spec spec = spec_with_root_mount(
        "fuse-overlayfs", {"lowerdir=" + a + ":" + b, "upperdir=/u", "workdir=/w"});
    auto p = plan_of(spec);
    ASSERT_TRUE(p.has_root_mount);
    EXPECT_TRUE(p.root_fuse);
    EXPECT_EQ(p.root_fuse_options,
              (std::vector<std::string>{"lowerdir=" + a + ":" + b, "upperdir=/u", "workdir=/w"}));
    for (auto& m : p.mounts) EXPECT_NE(m.target, "/");
}

TEST(CgroupMounts, HybridHierarchiesFromMountinfo) {
    const char* mi =
        "25 1 0:22 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
        "26 25 0:23 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 - cgroup cgroup "
        "rw,cpu,cpuacct\n"
        "27 25 0:24 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
        "28 25 0:25 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate\n"
        "29 1 0:26 / /proc rw - proc proc rw\n";
    auto h = cgroup_hierarchies(husk::runtime::cgroup::parse_mountinfo(mi));
    ASSERT_EQ(h.size(), 3u);
    EXPECT_EQ(h[0].name, "cpu,cpuacct");
    EXPECT_EQ(h[0].controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
    EXPECT_EQ(h[1].controllers, (std::vector<std::string>{"name=systemd"}));
    EXPECT_TRUE(h[2].v2);
}

TEST(CgroupMounts, UnifiedHost) {
    auto h = cgroup_hierarchies(husk::runtime::cgroup::parse_mountinfo(
        "30 1 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"));
    ASSERT_EQ(h.size(), 1u);
    EXPECT_TRUE(h[0].v2);
    EXPECT_TRUE(h[0].name.empty());
}
