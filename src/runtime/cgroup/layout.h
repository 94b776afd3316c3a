// Where the cgroup hierarchies of this host are, and where a container's cgroup
// goes in each. Decided at run time controller by controller: a hybrid host has
// v1 hierarchies at /sys/fs/cgroup/<ctrl> and cgroup2 at /sys/fs/cgroup/unified.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace husk::runtime::cgroup {

// A mounted cgroup hierarchy, as /proc/self/mountinfo shows it.
struct CgroupMount {
    std::string mountpoint;                // /sys/fs/cgroup/cpu
    std::string root;                      // the cgroup mounted there ("/" on the host)
    bool v2 = false;                       // cgroup2
    std::vector<std::string> controllers;  // v1 only: "cpu", "cpuacct", "name=systemd"
};

// The cgroup mounts of a mountinfo text, one per hierarchy (first mount wins;
// for cgroup2, /sys/fs/cgroup or /sys/fs/cgroup/unified is preferred).
std::vector<CgroupMount> parse_mountinfo(std::string_view text);

// /proc/self/cgroup: "4:memory:/a/b" -> {"memory": "/a/b"}; the v2 line "0::/x"
// -> {"": "/x"}; co-mounted controllers get one entry each ("cpu", "cpuacct").
std::map<std::string, std::string> parse_proc_cgroup(std::string_view text);

// Lexically clean an absolute path ("/a/../b//c/" -> "/b/c"); ".." never goes above "/".
std::string clean_path(std::string_view path);

// linux.cgroupsPath as runc reads it, for the cgroupfs driver:
//   empty               -> "/husk/<id>" (absolute)
//   "/a/b"              -> relative to each hierarchy's root
//   "a/b"               -> relative to the runtime's own cgroup in each hierarchy
//   "slice:prefix:name" -> error: that is the systemd driver's syntax
struct CgroupPath {
    std::string path;  // cleaned; starts with "/"
    bool relative = false;
};
CgroupPath parse_cgroups_path(const std::string& cgroups_path, const std::string& id);

// One hierarchy the container joins, with the directory of its cgroup there.
struct HierarchyDir {
    std::vector<std::string> controllers;  // empty for cgroup2
    std::string dir;                       // /sys/fs/cgroup/pids/husk/c1
    std::string mountpoint;                // /sys/fs/cgroup/pids
};

struct Layout {
    std::vector<CgroupMount> v1;
    std::optional<CgroupMount> v2;
    std::vector<std::string> v2_controllers;  // available at the cgroup2 root (cgroup.controllers)
    std::map<std::string, std::string> own;   // parse_proc_cgroup of /proc/self/cgroup

    // The v1 mount holding `controller`, or nullptr.
    const CgroupMount* v1_mount(std::string_view controller) const;
    bool v2_has(std::string_view controller) const;
    // Every hierarchy's mount: the v1 ones, then cgroup2.
    std::vector<CgroupMount> mounts() const;
    // The container's directory in `m` for `p`.
    std::string dir_for(const CgroupMount& m, const CgroupPath& p) const;
};

// The delegated cgroup2 subtree this process runs in, as systemd makes one for
// user@.service or a Delegate=yes unit (the cgroup directory and its cgroup.procs and
// cgroup.subtree_control writable by us): the topmost of our own cgroup and its ancestors
// that are all delegated to us. "" when our own cgroup is not, or there is no cgroup2.
std::string delegated_root(const Layout& layout);

// Build the layout from text (unit tests) or from this process (/proc/self/...).
// Can the memory controller limit swap here? cgroup v1 only with swap accounting
// (memory.memsw.limit_in_bytes at the root of its hierarchy); cgroup2 has memory.swap.max.
bool memory_swap_limit_supported(const Layout& layout);

Layout make_layout(std::string_view mountinfo, std::string_view proc_cgroup,
                   std::string_view v2_root_controllers);
Layout detect_layout();

}  // namespace husk::runtime::cgroup
