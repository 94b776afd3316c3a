// Turn a validated config.json into the init's Plan (parent side: allocates, throws).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "oci/spec.h"
#include "runtime/plan.h"

namespace husk::runtime {

struct PlanInputs {
    std::string bundle;  // absolute bundle directory
    bool no_pivot = false;
    int preserve_fds = 0;
    bool cgroup_ns_after_join = false;     // the init is put in its cgroup after clone (v1)
    std::vector<std::string> cgroup_dirs;  // the container's cgroup directories on the host
    std::string seccomp_cache_dir;         // compiled BPF programs, keyed by profile hash
};

// Also returns the clone flags for the new namespaces (CLONE_NEW*).
Plan build_plan(const oci::Spec& spec, const PlanInputs& in, unsigned long& clone_flags);

// The process part of a plan (user, env, cwd, rlimits, terminal, capabilities,
// seccomp): shared by create and exec.
void plan_process_security(const oci::Process& process, const oci::Seccomp* seccomp,
                           const std::string& seccomp_cache_dir, Plan& p);

// linux.resources with the device rules every container needs appended, as runc
// does: mknod of any node, the default devices, /dev/pts/*, /dev/ptmx, /dev/net/tun.
// Not the devices of linux.devices: they are made, and usable only where
// linux.resources.devices allows them. Null when the config has no resources.
std::optional<oci::Resources> effective_resources(const oci::Spec& spec);

// Namespace type name ("network") ↔ CLONE_NEW* flag; 0 for an unknown name.
int namespace_flag(const std::string& type);

// RLIMIT_* name → resource number, or -1.
int rlimit_resource(const std::string& name);

// Is the sysctl `key` namespaced by one of the namespaces the container has
// (`flags` = the CLONE_NEW* of its namespaces)? Throws naming the key when not.
void check_sysctl(const std::string& key, unsigned long flags);

}  // namespace husk::runtime
