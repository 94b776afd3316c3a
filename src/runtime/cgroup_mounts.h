// A "cgroup" mount of config.json, expanded for the hierarchies this host has:
// cgroup2 alone on a unified host; on hybrid and v1 hosts a tmpfs holding one
// cgroup mount per v1 hierarchy (and "unified" for cgroup2), as runc does.
#pragma once

#include <string>
#include <vector>

#include "runtime/cgroup/layout.h"
#include "runtime/plan.h"

namespace husk::runtime {

struct HostHierarchy {
    std::string name;  // basename of the mount point: "cpu,cpuacct", "unified"
    bool v2 = false;
    std::vector<std::string> controllers;  // v1: "cpu", "cpuacct"; named: "name=systemd"
};

// The cgroup hierarchies mounted under `root`, from the host's cgroup mounts as
// cgroup::parse_mountinfo finds them (the cgroup layout: one read and one parse of
// /proc/self/mountinfo per create).
std::vector<HostHierarchy> cgroup_hierarchies(const std::vector<cgroup::CgroupMount>& mounts,
                                              const std::string& root = "/sys/fs/cgroup");

// `host`: the host's cgroup mounts (cgroup::Manager::host_mounts()). `own_dirs`: the container's
// cgroup directories on the host (Manager::dirs()) when it has no cgroup namespace of its own. A
// fresh cgroup mount would then show the host's root of each hierarchy, so each hierarchy is a bind
// mount of the container's own directory instead, as runc does (podman on cgroup v1 runs containers
// without a cgroup namespace).
void append_cgroup_mounts(const PlannedMount& base, const std::vector<cgroup::CgroupMount>& host,
                          const std::vector<std::string>* own_dirs, std::vector<PlannedMount>& out);

}  // namespace husk::runtime
