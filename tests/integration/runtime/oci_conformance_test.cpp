// Where runc and crun run a config that husk-runtime refused or ran differently (issue 14,
// section 4): each test asserts what the container, a hook or the host sees.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "../harness.h"

using namespace husk::test;
using nlohmann::json;

namespace {

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

// A host directory that is a shared mount of its own (a peer group that propagates), as
// Kubernetes needs for a Bidirectional volume and as containerd's rootfs mounts are.
void make_shared_mount(const std::string& dir) {
    ASSERT_EQ(::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr), 0) << dir;
    ASSERT_EQ(::mount(nullptr, dir.c_str(), nullptr, MS_SHARED, nullptr), 0) << dir;
}

// The bundle's process keeps every capability (CAP_SYS_ADMIN, to mount from `exec`).
void all_capabilities(Bundle& b) {
    b.config["process"].erase("capabilities");
    b.save();
}

// A bundle whose rootfs lies on a shared mount, with the shared directory `vol` bound at
// /vol with `bind_options`, running sleep.
void volume_bundle(Bundle& b, const std::string& vol, const std::vector<std::string>& options) {
    make_shared_mount(b.dir());
    make_shared_mount(vol);
    std::filesystem::create_directories(vol + "/c2h");
    std::filesystem::create_directories(vol + "/h2c");
    b.config["mounts"].push_back(
        {{"destination", "/vol"}, {"type", "bind"}, {"source", vol}, {"options", options}});
    b.config["process"]["args"] = {"/bin/sleep", "100"};
    all_capabilities(b);
}

// Create and start the bundle; check that the runtime's own mounts (/proc, /dev...) stay
// off the host; mount a tmpfs from inside the container (c2h) and one from the host (h2c).
// Returns {whether the host sees the container's, whether the container sees the host's}.
std::pair<bool, bool> propagation_both_ways(Bundle& b, const std::string& vol) {
    std::string id = b.id();
    auto c = b.runtime({"create", "--bundle", b.dir(), id});
    EXPECT_EQ(c.status, 0) << c.err;
    EXPECT_EQ(b.runtime({"start", id}).status, 0);
    EXPECT_EQ(mounts_under(b.rootfs()), std::vector<std::string>{})
        << "the container's own mounts reached the host";
    auto m = b.runtime({"exec", id, "/bin/mount", "-t", "tmpfs", "c2h", "/vol/c2h"});
    EXPECT_EQ(m.status, 0) << m.err;
    bool to_host = !mounts_under(vol + "/c2h").empty();
    EXPECT_EQ(::mount("h2c", (vol + "/h2c").c_str(), "tmpfs", 0, nullptr), 0);
    std::ofstream(vol + "/h2c/marker") << "from-host";
    auto r = b.runtime({"exec", id, "/bin/cat", "/vol/h2c/marker"});
    bool to_container = r.status == 0 && r.out == "from-host";
    EXPECT_EQ(b.runtime({"delete", "--force", id}).status, 0);
    return {to_host, to_container};
}

}  // namespace

// A profile that denies getcwd to the container's program must not fail create: the cwd
// is entered and checked before the filter is loaded (without noNewPrivileges it is loaded
// before the user switch), as runc and crun.
TEST(OciConformance, SeccompDenyingGetcwdWithoutNoNewPrivilegesStillStarts) {
    Bundle b("oci-getcwd");
    b.config["process"]["noNewPrivileges"] = false;
    b.config["process"]["cwd"] = "/tmp";
    b.config["linux"]["seccomp"] = {
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"syscalls", {{{"names", {"getcwd"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
    b.args({"/bin/echo", "started"});
    auto r = b.runtime({"run", "--bundle", b.dir(), b.id()});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "started\n") << r.err;
    EXPECT_FALSE(contains(r.err, "cwd is outside")) << r.err;
}

// poststart hooks run once the container's program runs: after the init's execve, even
// when a startContainer hook keeps the init busy first (runc: after the exec fifo).
TEST(OciConformance, PoststartHooksRunAfterTheContainerProcessExecs) {
    Bundle b("oci-poststart");
    std::string log = b.dir() + "/poststart.log";
    b.config["hooks"] = {{"startContainer", {{{"path", "/bin/sleep"}, {"args", {"sleep", "1"}}}}},
                         {"poststart",
                          {{{"path", "/bin/sh"},
                            {"args",
                             {"sh", "-c",
                              "pid=$(sed -n 's/.*\"pid\": *\\([0-9]*\\).*/\\1/p'); "
                              "tr '\\0' ' ' </proc/$pid/cmdline >" +
                                  log}}}}}};
    b.args({"/bin/sleep", "100"});
    std::string id = b.id();
    ASSERT_EQ(b.runtime({"create", "--bundle", b.dir(), id}).status, 0);
    auto s = b.runtime({"start", id});
    EXPECT_EQ(s.status, 0) << s.err;
    // start returns after the poststart hooks: the log is complete now.
    EXPECT_EQ(read_file(log), "/bin/sleep 100 ");
    EXPECT_EQ(b.runtime({"delete", "--force", id}).status, 0);
}

// No mount namespace: runc makes the mounts in its own mount namespace (under the rootfs,
// where they outlive the container) and runs the container; so do we, with a warning.
// Masked paths would mask the host's: refused, as runc.
TEST(OciConformance, MountsWithoutAMountNamespaceAreMadeWithAWarning) {
    Bundle b("oci-nomntns");
    json others = json::array();
    for (const auto& ns : b.config["linux"]["namespaces"])
        if (ns["type"] != "mount") others.push_back(ns);
    b.config["linux"]["namespaces"] = others;
    b.config["mounts"] = {{{"destination", "/tmp"}, {"type", "tmpfs"}, {"source", "tmpfs"}}};
    b.args({"/bin/sh", "-c", "echo in-tmpfs > /tmp/f; cat /tmp/f"});
    auto masked = b.runtime({"run", "--bundle", b.dir(), b.id()});
    EXPECT_EQ(masked.status, 1);
    EXPECT_TRUE(contains(masked.err,
                         "linux.maskedPaths: masked and read-only paths need a mount "
                         "namespace"))
        << masked.err;

    b.config["linux"].erase("maskedPaths");
    b.config["linux"].erase("readonlyPaths");
    b.save();
    auto r = b.runtime({"run", "--bundle", b.dir(), b.id()});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "in-tmpfs\n");
    EXPECT_TRUE(contains(r.err,
                         "no mount namespace: mounts are made in the runtime's own mount "
                         "namespace, under " +
                             b.rootfs()))
        << r.err;
    // The tmpfs is on the host, under the rootfs, as with runc.
    auto left = mounts_under(b.rootfs() + "/tmp");
    ASSERT_EQ(left.size(), 1u);
    EXPECT_TRUE(contains(left[0], " - tmpfs ")) << left[0];
    EXPECT_EQ(read_file(b.rootfs() + "/tmp/f"), "in-tmpfs\n");
    ::umount2((b.rootfs() + "/tmp").c_str(), MNT_DETACH);
}

// podman --privileged passes linux.devices[].fileMode as stat's st_mode (020666 for a
// character device): accepted, the node gets the permission bits.
TEST(OciConformance, DeviceFileModeWithTheFileTypeBitsAsPodmanPassesIt) {
    Bundle b("oci-filemode");
    b.config["linux"]["devices"] = {{{"type", "c"},
                                     {"path", "/dev/null2"},
                                     {"major", 1},
                                     {"minor", 3},
                                     {"fileMode", S_IFCHR | 0640}}};
    b.args({"/bin/stat", "-c", "%F %a %t:%T", "/dev/null2"});
    auto r = b.runtime({"run", "--bundle", b.dir(), b.id()});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "character special file 640 1:3\n") << r.err;
}

// A node of linux.devices is made, but opening it is up to linux.resources.devices (runc:
// EPERM): creating a node is not access to the device.
TEST(OciConformance, LinuxDevicesAreUsableOnlyWhereTheDeviceCgroupAllowsThem) {
    if (cgroup_mounts().empty()) GTEST_SKIP() << "no cgroup file system is mounted";
    Bundle b("oci-devcg");
    // /dev/kmsg (1:11): not among the devices every container gets. Reading it may need
    // CAP_SYSLOG (dmesg_restrict): every capability, so only the cgroup can refuse.
    all_capabilities(b);
    b.config["linux"]["devices"] = {
        {{"type", "c"}, {"path", "/dev/kmsg2"}, {"major", 1}, {"minor", 11}}};
    b.args({"/bin/sh", "-c", "if true </dev/kmsg2; then echo opened; else echo refused; fi"});
    auto denied = b.runtime({"run", "--bundle", b.dir(), b.id()});
    EXPECT_EQ(denied.status, 0) << denied.err;
    EXPECT_EQ(denied.out, "refused\n") << denied.err;
    EXPECT_TRUE(contains(denied.err, "Operation not permitted")) << denied.err;

    b.config["linux"]["resources"]["devices"].push_back(
        {{"allow", true}, {"type", "c"}, {"major", 1}, {"minor", 11}, {"access", "r"}});
    b.save();
    auto allowed = b.runtime({"run", "--bundle", b.dir(), b.id()});
    EXPECT_EQ(allowed.status, 0) << allowed.err;
    EXPECT_EQ(allowed.out, "opened\n") << allowed.err;
}

// Without linux.cgroupsPath the container's cgroup is /<id> in every hierarchy, as runc
// names it, and delete leaves no cgroup behind: no empty parent either. Checked in a cgroup
// hierarchy of this test's own (a named v1 hierarchy, in a mount namespace of its own),
// where no other container of this host can be.
TEST(OciConformance, RunWithoutCgroupsPathLeavesNoCgroupBehind) {
    Bundle b("oci-cgdefault");
    b.config["linux"].erase("cgroupsPath");
    b.args({"/bin/true"});
    TempDir hier("oci-cgdefault-hier");
    const std::string& h = hier.path();
    const std::string id = b.id();
    const std::string rt = runtime_bin() + " --root " + b.state_root();
    const std::string script =
        "mount -t cgroup -o none,name=husk-it-" + std::to_string(::getpid()) + " husk-it " + h +
        " || exit 77; " + rt + " create --bundle " + b.dir() + " " + id + " || exit 1; " + "[ -d " +
        h + "/" + id + " ] && echo made /" + id + "; " + rt + " delete --force " + id +
        " || exit 1; echo left: $(cd " + h + " && find . -mindepth 1 -type d)";
    auto r = run({"/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c", script});
    if (r.status == 77) GTEST_SKIP() << "cannot mount a named cgroup v1 hierarchy: " << r.err;
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "made /" + id + "\nleft:\n") << r.err;
}

// rootfsPropagation rshared with an rshared bind of a shared host directory (Kubernetes'
// Bidirectional, through containerd): a mount made in the container reaches the host and
// one made on the host reaches the container, as with runc. What the runtime mounts
// itself (/proc, /dev...) stays off the host although the rootfs lies on a shared mount.
TEST(OciConformance, RsharedRootAndRsharedBindPropagateBothWays) {
    TempDir vol("oci-rshared-vol");
    Bundle b("oci-rshared");
    volume_bundle(b, vol.path(), {"rbind", "rshared"});
    b.config["linux"]["rootfsPropagation"] = "rshared";
    b.save();
    auto [to_host, to_container] = propagation_both_ways(b, vol.path());
    EXPECT_TRUE(to_host) << "a mount made in the container never reached the host";
    EXPECT_TRUE(to_container) << "a mount made on the host never reached the container";
}

// The default (rslave): the host's mounts reach the container, the container's never
// reach the host, even through a bind of a shared host directory.
TEST(OciConformance, DefaultPropagationLetsHostMountsInAndNoneOut) {
    TempDir vol("oci-rslave-vol");
    Bundle b("oci-rslave");
    volume_bundle(b, vol.path(), {"rbind"});
    auto [to_host, to_container] = propagation_both_ways(b, vol.path());
    EXPECT_FALSE(to_host) << "a mount made in the container reached the host";
    EXPECT_TRUE(to_container) << "a mount made on the host never reached the container";
}
