// build_plan: config.json (and a few host facts: the rootfs and bind sources exist) in,
// the init's plan out. What the init will do, step by step, without running it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "oci/spec.h"
#include "runtime/plan_build.h"
#include "sys/error.h"

using namespace husk::runtime;
namespace oci = husk::oci;

namespace {

// A bundle directory with an empty rootfs/ and a data/ directory to bind.
class BundleDir {
  public:
    BundleDir() {
        char tmpl[] = "/tmp/husk-build-plan-XXXXXX";
        path_ = ::mkdtemp(tmpl);
        std::filesystem::create_directory(path_ + "/rootfs");
        std::filesystem::create_directory(path_ + "/data");
    }
    ~BundleDir() { std::filesystem::remove_all(path_); }
    BundleDir(const BundleDir&) = delete;
    BundleDir& operator=(const BundleDir&) = delete;
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

// A config with `linux` and `mounts` as given (JSON text of their values).
oci::Spec config(const std::string& linux_json, const std::string& mounts_json = "[]",
                 const std::string& extra = "") {
    return oci::parse_spec(R"({"ociVersion": "1.2.0",
        "process": {"args": ["/bin/sh", "-c", "true"], "cwd": "/",
                    "env": ["PATH=/usr/bin:/bin", "A=1"], "user": {"uid": 1000, "gid": 1000}},
        "root": {"path": "rootfs"},)" +
                           extra + R"("mounts": )" + mounts_json + R"(, "linux": )" + linux_json +
                           "}");
}

Plan plan_of(const oci::Spec& spec, const BundleDir& b, unsigned long& flags,
             bool cgroup_ns_after_join = false) {
    static const std::vector<cgroup::CgroupMount> no_cgroups;  // no cgroup mounts here
    PlanInputs in(no_cgroups);
    in.bundle = b.path();
    in.cgroup_ns_after_join = cgroup_ns_after_join;
    return build_plan(spec, in, flags);
}

const PlannedMount* mount_at(const Plan& p, const std::string& target) {
    for (const auto& m : p.mounts)
        if (m.target == target) return &m;
    return nullptr;
}

const PlannedDevice* device_at(const Plan& p, const std::string& path) {
    for (const auto& d : p.devices)
        if (d.path == path) return &d;
    return nullptr;
}

std::string error_of(const oci::Spec& spec, const BundleDir& b) {
    unsigned long flags = 0;
    try {
        plan_of(spec, b, flags);
    } catch (const husk::Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(BuildPlan, NewNamespacesBecomeCloneFlagsTheRootIsResolved) {
    BundleDir b;
    unsigned long flags = 0;
    Plan p = plan_of(config(R"({"namespaces": [{"type": "pid"}, {"type": "network"},
        {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}, {"type": "cgroup"}]})"),
                     b, flags);
    EXPECT_EQ(flags, static_cast<unsigned long>(CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWNS |
                                                CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP));
    EXPECT_TRUE(p.new_mount_ns);
    EXPECT_FALSE(p.in_user_ns());
    EXPECT_TRUE(p.joins.empty());
    char real[PATH_MAX];
    ASSERT_NE(::realpath((b.path() + "/rootfs").c_str(), real), nullptr);
    EXPECT_EQ(p.rootfs, real);
    EXPECT_EQ(p.uid, 1000U);
    EXPECT_EQ(p.path_env, "/usr/bin:/bin");
    ASSERT_EQ(p.argv.size(), 4U);  // finalized, null-terminated
    EXPECT_STREQ(p.argv[0], "/bin/sh");
    EXPECT_EQ(p.argv[3], nullptr);
    EXPECT_TRUE(p.mount_console);
}

// cgroup v1: the init joins its cgroup after the clone, then unshares; a time namespace
// is made by the parent around the clone (its offsets go in first).
TEST(BuildPlan, CgroupAndTimeNamespacesAreMadeOutsideTheClone) {
    BundleDir b;
    unsigned long flags = 0;
    Plan p = plan_of(config(R"({"namespaces": [{"type": "cgroup"}, {"type": "time"}],
        "timeOffsets": {"monotonic": {"secs": 5, "nanosecs": 0}}})"),
                     b, flags, /*cgroup_ns_after_join=*/true);
    EXPECT_EQ(flags, 0UL);
    EXPECT_TRUE(p.unshare_cgroup_after_join);
    EXPECT_TRUE(p.new_time_ns);
    EXPECT_EQ(p.time_offsets, "monotonic 5 0\n");
}

// Joined namespaces are opened by the parent, in config order with the mount namespace
// last (setns of a mount namespace first would hide the other paths).
TEST(BuildPlan, JoinedNamespacesAreOpenedWithTheMountNamespaceLast) {
    BundleDir b;
    unsigned long flags = 0;
    Plan p = plan_of(config(R"({"namespaces": [{"type": "mount", "path": "/proc/self/ns/mnt"},
        {"type": "network", "path": "/proc/self/ns/net"}, {"type": "pid"}]})"),
                     b, flags);
    EXPECT_EQ(flags, static_cast<unsigned long>(CLONE_NEWPID));
    ASSERT_EQ(p.joins.size(), 2U);
    EXPECT_EQ(p.joins[0].nstype, CLONE_NEWNET);
    EXPECT_EQ(p.joins[1].nstype, CLONE_NEWNS);
    for (const auto& j : p.joins) EXPECT_GE(::fcntl(j.fd, F_GETFD), 0) << j.path;
    EXPECT_TRUE(p.new_mount_ns);
}

// Without a bind on /dev the init makes the default nodes and the /dev symlinks; a
// linux.devices entry replaces the default node of the same path.
TEST(BuildPlan, DefaultDevicesAndLinuxDevices) {
    BundleDir b;
    unsigned long flags = 0;
    Plan p = plan_of(config(R"({"namespaces": [{"type": "mount"}], "devices": [
        {"path": "/dev/null", "type": "c", "major": 1, "minor": 3, "fileMode": 8630, "uid": 7},
        {"path": "/dev/sda", "type": "b", "major": 8, "minor": 0}]})",
                            R"([{"destination": "/dev/pts", "type": "devpts", "source": "devpts",
                                 "options": ["nosuid"]}])"),
                     b, flags);
    ASSERT_NE(device_at(p, "/dev/zero"), nullptr);
    EXPECT_EQ(device_at(p, "/dev/zero")->dev, makedev(1, 5));
    EXPECT_EQ(device_at(p, "/dev/zero")->mode, static_cast<mode_t>(S_IFCHR | 0666));
    EXPECT_FALSE(device_at(p, "/dev/zero")->bind_from_host);
    const PlannedDevice* null = device_at(p, "/dev/null");
    ASSERT_NE(null, nullptr);
    EXPECT_EQ(null->mode, static_cast<mode_t>(S_IFCHR | 0666));  // 8630 = 020666
    EXPECT_EQ(null->uid, 7U);
    int nulls = 0;
    for (const auto& d : p.devices) nulls += d.path == "/dev/null";
    EXPECT_EQ(nulls, 1);
    ASSERT_NE(device_at(p, "/dev/sda"), nullptr);
    EXPECT_EQ(device_at(p, "/dev/sda")->mode & S_IFMT, static_cast<mode_t>(S_IFBLK));
    ASSERT_NE(mount_at(p, "/dev/fd"), nullptr);
    EXPECT_EQ(mount_at(p, "/dev/fd")->kind, PlannedMount::Kind::symlink);
    EXPECT_EQ(mount_at(p, "/dev/fd")->source, "/proc/self/fd");
    ASSERT_NE(mount_at(p, "/dev/ptmx"), nullptr);  // there is a devpts
    EXPECT_EQ(mount_at(p, "/dev/ptmx")->source, "pts/ptmx");
    ASSERT_NE(mount_at(p, "/dev/pts"), nullptr);
    EXPECT_EQ(mount_at(p, "/dev/pts")->kind, PlannedMount::Kind::filesystem);
    EXPECT_EQ(mount_at(p, "/dev/pts")->fstype, "devpts");
}

TEST(BuildPlan, ABindOnDevMeansNoDefaultDevicesNorSymlinks) {
    BundleDir b;
    unsigned long flags = 0;
    Plan p = plan_of(config(R"({"namespaces": [{"type": "mount"}]})",
                            R"([{"destination": "/dev", "type": "bind", "source": "data",
                                 "options": ["rbind"]}])"),
                     b, flags);
    EXPECT_TRUE(p.devices.empty());
    ASSERT_EQ(p.mounts.size(), 1U);
    EXPECT_EQ(p.mounts[0].kind, PlannedMount::Kind::bind);
    EXPECT_EQ(p.mounts[0].source, b.path() + "/data");  // relative to the bundle
    EXPECT_TRUE(p.mounts[0].dir_target);
    EXPECT_EQ(mount_at(p, "/dev/fd"), nullptr);
}

// In a user namespace mknod fails: the host's nodes are bound; sysfs without a network
// namespace of the container's own is the host's /sys bound read-only.
TEST(BuildPlan, InAUserNamespaceDevicesAreBoundAndSysfsIsAReadOnlyBind) {
    BundleDir b;
    unsigned long flags = 0;
    Plan p = plan_of(
        config(R"({"namespaces": [{"type": "user"}, {"type": "mount"}],
            "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
            "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]})",
               R"([{"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": []}])"),
        b, flags);
    EXPECT_TRUE(p.new_user_ns);
    EXPECT_TRUE(p.in_user_ns());
    ASSERT_NE(device_at(p, "/dev/null"), nullptr);
    EXPECT_TRUE(device_at(p, "/dev/null")->bind_from_host);
    const PlannedMount* sys = mount_at(p, "/sys");
    ASSERT_NE(sys, nullptr);
    EXPECT_EQ(sys->kind, PlannedMount::Kind::bind);
    EXPECT_EQ(sys->source, "/sys");
    EXPECT_TRUE(sys->opts.recursive);
}

TEST(BuildPlan, IdentityAndProcess) {
    BundleDir b;
    unsigned long flags = 0;
    Plan p = plan_of(config(R"({"namespaces": [{"type": "uts"}, {"type": "network"},
                                        {"type": "mount"}],
        "sysctl": {"net.ipv4.ip_forward": "1"}, "personality": {"domain": "LINUX32"},
        "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"]})",
                            "[]", R"("hostname": "box", "domainname": "example.org",)"),
                     b, flags);
    EXPECT_TRUE(p.set_hostname);
    EXPECT_EQ(p.hostname, "box");
    EXPECT_EQ(p.domainname, "example.org");
    ASSERT_EQ(p.sysctls.size(), 1U);
    EXPECT_EQ(p.sysctls[0].first, "/proc/sys/net/ipv4/ip_forward");
    EXPECT_EQ(p.sysctls[0].second, "1");
    EXPECT_TRUE(p.set_personality);
    EXPECT_EQ(p.personality, static_cast<unsigned long>(PER_LINUX32));
    EXPECT_EQ(p.masked_paths, std::vector<std::string>{"/proc/kcore"});
    EXPECT_EQ(p.readonly_paths, std::vector<std::string>{"/proc/sys"});
}

// Each refusal names the field, and comes before anything is made.
TEST(BuildPlan, RefusalsNameTheField) {
    BundleDir b;
    EXPECT_NE(error_of(config(R"({"namespaces": []})", "[]", R"("hostname": "box",)"), b)
                  .find("hostname: setting the hostname needs a private UTS namespace"),
              std::string::npos);
    EXPECT_NE(error_of(config(R"({"namespaces": [{"type": "mount"}],
                  "timeOffsets": {"boottime": {"secs": 1}}})"),
                       b)
                  .find("linux.timeOffsets"),
              std::string::npos);
    EXPECT_NE(error_of(config(R"({"namespaces": [], "maskedPaths": ["/proc/kcore"]})"), b)
                  .find("linux.maskedPaths: masked and read-only paths need a mount namespace"),
              std::string::npos);
    EXPECT_NE(error_of(config(R"({"namespaces": [{"type": "mount"}]})",
                              R"([{"destination": "/x", "source": "x", "options": []}])"),
                       b)
                  .find("mounts[0] (/x): mount type is required"),
              std::string::npos);
    EXPECT_NE(
        error_of(config(R"({"namespaces": [{"type": "network", "path": "/nonexistent/ns"}]})"), b)
            .find("linux.namespaces[0]"),
        std::string::npos);
}
