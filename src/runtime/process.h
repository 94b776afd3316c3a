// The container's process, both halves: the parent plans its identity (hostname,
// domain name, sysctls, personality), user, environment, cwd, rlimits, capabilities and
// seccomp; the init (or an exec'd process) applies them in runc's order and execs.
#pragma once

#include <cstddef>
#include <string>

#include "oci/spec.h"
#include "runtime/plan.h"

namespace husk::runtime {

// RLIMIT_* name → resource number, or -1.
int rlimit_resource(const std::string& name);

// Is the sysctl `key` namespaced by one of the namespaces the container has
// (`flags` = the CLONE_NEW* of its namespaces)? Throws naming the key when not.
void check_sysctl(const std::string& key, unsigned long flags);

// hostname, domainname, linux.sysctl and linux.personality; `all_ns`: the CLONE_NEW* of
// every namespace the container has (the UTS, IPC or network one they need).
void plan_identity(const oci::Spec& spec, unsigned long all_ns, Plan& p);

// The process part of a plan (user, env, cwd, rlimits, terminal, capabilities,
// seccomp): shared by create and exec.
void plan_process_security(const oci::Process& process, const oci::Seccomp* seccomp,
                           const std::string& seccomp_cache_dir, Plan& p);

// Child side (no allocation, no throw); each reports a failure and _exits.

// A session keyring of the container's own, when the plan names one.
void join_session_keyring(const Plan& p) noexcept;
// Hostname, domain name, sysctls and oom_score_adj (before /proc/sys is read-only).
void set_identity(const Plan& p) noexcept;
// rlimits, capabilities, seccomp, user, umask, cwd; finds the executable (into `exe`).
void prepare_process(const Plan& p, char* exe, size_t len) noexcept;
// Close what the container must not inherit, reset signals, execve. Never returns.
[[noreturn]] void exec_process(const Plan& p, const char* exe) noexcept;

}  // namespace husk::runtime
