// Namespaces, both halves: the parent decides which the container gets new and which it
// joins (opening the joined ones), and writes a new user namespace's id maps; the init
// becomes root of its user namespace and joins the others.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "oci/spec.h"
#include "runtime/plan.h"

namespace husk::runtime {

// Namespace type name ("network") ↔ CLONE_NEW* flag; 0 for an unknown name.
int namespace_flag(const std::string& type);

// linux.namespaces and linux.timeOffsets into `p`; the CLONE_NEW* flags of the namespaces
// made by the clone go to `clone_flags`. With `cgroup_ns_after_join` (the init is put in
// its cgroup after the clone: cgroup v1) a new cgroup namespace is unshared by the init.
void plan_namespaces(const oci::Linux& lx, bool cgroup_ns_after_join, Plan& p,
                     unsigned long& clone_flags);

// Every namespace the container has of its own, new or joined (CLONE_NEW*).
unsigned long container_namespaces(const Plan& p, unsigned long clone_flags);

// "0 100000 65536\n..." for /proc/PID/uid_map; throws when a map is empty or too long.
std::string format_id_map(const std::vector<oci::IdMapping>& m, const char* field);
void write_id_maps(pid_t pid, const std::vector<oci::IdMapping>& uids,
                   const std::vector<oci::IdMapping>& gids);

// Child side (between clone and execve: no allocation, no throw; failures go to the parent).

// In a user namespace (new, its maps written by the parent, or joined): become its root.
void become_user_ns_root(const Plan& p) noexcept;
// Plan::time_ns_in_init: a new time namespace with the offsets, made and entered by the
// init in its user namespace (timens.h). While still dumpable: /proc/self/timens_offsets
// of a process that is not belongs to root on the host, whom our user namespace's root
// is not.
void make_time_namespace(const Plan& p) noexcept;
// Rootless, in a new network namespace: bring `lo` up (Plan::loopback_up).
void bring_loopback_up(const Plan& p) noexcept;
// setns into the joined namespaces (mount last), unshare a deferred cgroup namespace.
void join_namespaces(const Plan& p) noexcept;

}  // namespace husk::runtime
