// Turn a validated config.json into the init's Plan (parent side: allocates, throws).
#pragma once

#include <string>
#include <vector>

#include "oci/spec.h"
#include "runtime/cgroup/layout.h"
#include "runtime/devices.h"     // effective_resources, for create
#include "runtime/namespaces.h"  // namespace_flag
#include "runtime/plan.h"
#include "runtime/process.h"  // plan_process_security, for exec

namespace husk::runtime {

struct PlanInputs {
    explicit PlanInputs(const std::vector<cgroup::CgroupMount>& host) : host_cgroups(host) {}
    // The host's cgroup mounts (cgroup::Manager::host_mounts()): the container's cgroup
    // mounts of config.json are made from them.
    const std::vector<cgroup::CgroupMount>& host_cgroups;
    std::string bundle;  // absolute bundle directory
    bool no_pivot = false;
    bool rootless = false;  // --rootless: no mknod, the host's device nodes are bound
    int preserve_fds = 0;
    bool cgroup_ns_after_join = false;     // the init is put in its cgroup after clone (v1)
    std::vector<std::string> cgroup_dirs;  // the container's cgroup directories on the host
    std::string seccomp_cache_dir;         // compiled BPF programs, keyed by profile hash
};

// Also returns the clone flags for the new namespaces (CLONE_NEW*).
Plan build_plan(const oci::Spec& spec, const PlanInputs& in, unsigned long& clone_flags);

}  // namespace husk::runtime
