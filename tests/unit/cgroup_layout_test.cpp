// Where a container's cgroup goes: mountinfo and /proc/self/cgroup parsing,
// linux.cgroupsPath rules (absolute, relative, systemd syntax).
#include <gtest/gtest.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/cgroup/layout.h"
#include "sys/error.h"
#include "sys/fileutil.h"

namespace husk::runtime::cgroup {
namespace {

constexpr const char* kHybridMountinfo =
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n"
    "41 30 0:35 / /mnt/pids\\040again rw,relatime - cgroup cgroup rw,pids\n"
    "42 22 0:37 /sub /mnt/v2 rw - cgroup2 cgroup2 rw\n";

constexpr const char* kHybridSelf =
    "9:name=systemd:/user.slice\n"
    "8:pids:/\n"
    "4:memory:/process_api/abc\n"
    "1:cpu,cpuacct:/work\n"
    "0::/user.slice\n";

TEST(CgroupLayout, ParsesHybridMountinfo) {
    auto mounts = parse_mountinfo(kHybridMountinfo);
    ASSERT_EQ(mounts.size(), 5u);  // the second pids mount is the same hierarchy
    EXPECT_EQ(mounts[0].mountpoint, "/sys/fs/cgroup/cpu,cpuacct");
    EXPECT_EQ(mounts[0].controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
    EXPECT_EQ(mounts[3].controllers, (std::vector<std::string>{"name=systemd"}));
    EXPECT_TRUE(mounts[4].v2);
    EXPECT_EQ(mounts[4].mountpoint, "/sys/fs/cgroup/unified");  // preferred over /mnt/v2
}

TEST(CgroupLayout, PrefersTheV1MountUnderSysFsCgroup) {
    // a bind mount of the memory hierarchy elsewhere, listed before the usual one
    auto mounts = parse_mountinfo(
        "33 30 0:33 /ctr /mnt/memory rw - cgroup cgroup rw,memory\n"
        "35 25 0:33 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n"
        "36 30 0:33 / /srv/memory rw - cgroup cgroup rw,memory\n");
    ASSERT_EQ(mounts.size(), 1u);
    EXPECT_EQ(mounts[0].mountpoint, "/sys/fs/cgroup/memory");
    EXPECT_EQ(mounts[0].root, "/");
}

TEST(CgroupLayout, UnescapesMountpoints) {
    auto mounts = parse_mountinfo("41 30 0:35 / /mnt/a\\040b rw - cgroup cgroup rw,pids\n");
    ASSERT_EQ(mounts.size(), 1u);
    EXPECT_EQ(mounts[0].mountpoint, "/mnt/a b");
}

TEST(CgroupLayout, PureV2) {
    auto l = make_layout("25 22 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
                         "0::/init.scope\n", "cpuset cpu io memory pids\n");
    EXPECT_TRUE(l.v1.empty());
    ASSERT_TRUE(l.v2);
    EXPECT_TRUE(l.v2_has("memory"));
    EXPECT_FALSE(l.v2_has("hugetlb"));
    EXPECT_EQ(l.dir_for(*l.v2, parse_cgroups_path("", "c1")), "/sys/fs/cgroup/c1");
    EXPECT_EQ(l.dir_for(*l.v2, parse_cgroups_path("ctr/c1", "c1")),
              "/sys/fs/cgroup/init.scope/ctr/c1");
}

TEST(CgroupLayout, ProcSelfCgroupSplitsCoMountedControllers) {
    auto own = parse_proc_cgroup(kHybridSelf);
    EXPECT_EQ(own.at("cpu"), "/work");
    EXPECT_EQ(own.at("cpuacct"), "/work");
    EXPECT_EQ(own.at("memory"), "/process_api/abc");
    EXPECT_EQ(own.at("name=systemd"), "/user.slice");
    EXPECT_EQ(own.at(""), "/user.slice");
}

TEST(CgroupLayout, CleanPath) {
    EXPECT_EQ(clean_path("/a/../b//c/"), "/b/c");
    EXPECT_EQ(clean_path("../../etc"), "/etc");
    EXPECT_EQ(clean_path("/"), "/");
    EXPECT_EQ(clean_path("a/./b"), "/a/b");
}

TEST(CgroupLayout, CgroupsPathRules) {
    auto l = make_layout(kHybridMountinfo, kHybridSelf, "hugetlb");
    const auto& memory = *l.v1_mount("memory");
    const auto& cpu = *l.v1_mount("cpuacct");
    // Empty: /husk/<id> from each hierarchy's root.
    EXPECT_EQ(l.dir_for(memory, parse_cgroups_path("", "c1")), "/sys/fs/cgroup/memory/c1");
    // Absolute: from each hierarchy's root, whatever our own cgroup is.
    EXPECT_EQ(l.dir_for(memory, parse_cgroups_path("/pods/c2", "c2")),
              "/sys/fs/cgroup/memory/pods/c2");
    // Relative: under the runtime's own cgroup of that hierarchy.
    auto rel = parse_cgroups_path("pods/c3", "c3");
    EXPECT_TRUE(rel.relative);
    EXPECT_EQ(l.dir_for(memory, rel), "/sys/fs/cgroup/memory/process_api/abc/pods/c3");
    EXPECT_EQ(l.dir_for(cpu, rel), "/sys/fs/cgroup/cpu,cpuacct/work/pods/c3");
    EXPECT_EQ(l.dir_for(*l.v1_mount("pids"), rel), "/sys/fs/cgroup/pids/pods/c3");
    EXPECT_EQ(l.dir_for(*l.v2, rel), "/sys/fs/cgroup/unified/user.slice/pods/c3");
    // ".." cannot climb out of the hierarchy.
    EXPECT_EQ(l.dir_for(memory, parse_cgroups_path("/../../etc", "x")),
              "/sys/fs/cgroup/memory/etc");
    EXPECT_TRUE(l.v2_has("hugetlb"));
}

TEST(CgroupLayout, RelativeUnderASubtreeMount) {
    // In a cgroup namespace the mount shows a sub-tree; /proc/self/cgroup is below it.
    auto l =
        make_layout("42 22 0:37 /sub /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "0::/sub/me\n", "");
    EXPECT_EQ(l.dir_for(*l.v2, parse_cgroups_path("c", "c")), "/sys/fs/cgroup/me/c");
}

TEST(CgroupLayout, SystemdSyntaxIsRefusedWithTheReason) {
    try {
        parse_cgroups_path("system.slice:husk:c1", "c1");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("systemd cgroup driver"), std::string::npos)
            << e.what();
    }
    EXPECT_THROW(parse_cgroups_path("/", "c1"), Error);
}

// docker sets its default swap limit only where the memory controller limits swap: a v1
// memory hierarchy (wherever the layout says it is mounted) with swap accounting, or
// cgroup2 (memory.swap.max).
TEST(CgroupLayout, SwapLimitWhereTheV1MemoryHierarchyAccountsSwapOrOnCgroup2) {
    char tmpl[] = "/tmp/husk-memsw-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    std::string dir = tmpl;
    std::string v1 = "34 30 0:31 / " + dir + " rw - cgroup cgroup rw,memory\n";
    Layout hybrid = make_layout(v1, "", "");
    EXPECT_FALSE(memory_swap_limit_supported(hybrid));
    sys::write_file(dir + "/memory.memsw.limit_in_bytes", "9223372036854771712\n");
    EXPECT_TRUE(memory_swap_limit_supported(hybrid));
    Layout v2 = make_layout("40 30 0:37 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "", "memory");
    EXPECT_TRUE(memory_swap_limit_supported(v2));
    sys::remove_all(dir);
}

// Rootless on cgroup v2: the delegated subtree is our own cgroup and the ancestors that are
// ours too (directory, cgroup.procs, cgroup.subtree_control), never one of root's above.
// Checked as an ordinary uid (a forked child): as root everything is writable.
TEST(CgroupLayout, DelegatedRootIsTheTopmostCgroupOfOursAboveOurOwn) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to give the tree to another uid";
    char tmpl[] = "/tmp/husk-deleg-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string mnt = tmpl;
    ASSERT_EQ(::chmod(mnt.c_str(), 0755), 0);
    const std::string svc = mnt + "/user.slice/user@1000.service";
    sys::mkdir_all(svc + "/app/leaf", 0755);
    constexpr uid_t kUser = 65534;
    for (const std::string& d : {svc, svc + "/app", svc + "/app/leaf"}) {
        for (const char* f : {"cgroup.procs", "cgroup.subtree_control"})
            sys::write_file(d + "/" + f, "", 0644);
        for (const char* f : {"", "/cgroup.procs", "/cgroup.subtree_control"})
            ASSERT_EQ(::chown((d + f).c_str(), kUser, kUser), 0);
    }
    const std::string mountinfo = "40 30 0:37 / " + mnt + " rw - cgroup2 cgroup2 rw\n";
    // What delegated_root answers as kUser, for a process in cgroup `own`.
    auto as_user = [&](const std::string& own) {
        int p[2];
        EXPECT_EQ(::pipe(p), 0);
        pid_t pid = ::fork();
        if (pid == 0) {
            ::close(p[0]);
            if (::setresgid(kUser, kUser, kUser) != 0 || ::setresuid(kUser, kUser, kUser) != 0)
                ::_exit(1);
            std::string r = delegated_root(make_layout(mountinfo, "0::" + own + "\n", ""));
            ssize_t n = ::write(p[1], r.data(), r.size());
            ::_exit(n == static_cast<ssize_t>(r.size()) ? 0 : 1);
        }
        ::close(p[1]);
        std::string out;
        char buf[512];
        for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;)
            out.append(buf, static_cast<size_t>(n));
        ::close(p[0]);
        int st = 0;
        ::waitpid(pid, &st, 0);
        EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        return out;
    };
    EXPECT_EQ(as_user("/user.slice/user@1000.service/app/leaf"), svc);
    EXPECT_EQ(as_user("/user.slice/user@1000.service"), svc);
    EXPECT_EQ(as_user("/user.slice"), "");  // root's: not delegated
    // a cgroup of ours whose cgroup.subtree_control is not: not delegated, nor is below it
    ASSERT_EQ(::chown((svc + "/cgroup.subtree_control").c_str(), 0, 0), 0);
    EXPECT_EQ(as_user("/user.slice/user@1000.service/app/leaf"), svc + "/app");
    EXPECT_EQ(delegated_root(make_layout("", "0::/x\n", "")), "");  // no cgroup2
    sys::remove_all(mnt);
}

}  // namespace
}  // namespace husk::runtime::cgroup
