// The names the OCI runtime spec uses for kernel constants (capabilities,
// rlimits, namespaces, seccomp, ...), with their values where the runtime
// needs them. Parsing validates against these lists; `features` prints them.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace husk::oci {

using NameList = std::span<const std::string_view>;

// "CAP_KILL" -> 5; CAP_CHOWN (0) through CAP_CHECKPOINT_RESTORE (40).
std::optional<int> capability_number(std::string_view name);
NameList capability_names();  // index == capability number

// "RLIMIT_NOFILE" -> RLIMIT_NOFILE.
std::optional<int> rlimit_number(std::string_view name);
NameList rlimit_names();

NameList namespace_types();  // pid network mount ipc uts user cgroup time
NameList rootfs_propagations();
NameList seccomp_actions();
NameList seccomp_operators();
NameList seccomp_archs();
NameList seccomp_flags();
NameList scheduler_policies();
NameList scheduler_flags();
NameList ioprio_classes();
NameList memory_policy_modes();
NameList memory_policy_flags();
NameList personality_domains();
NameList hook_names();  // prestart createRuntime createContainer startContainer poststart poststop

bool contains(NameList list, std::string_view name);

}  // namespace husk::oci
