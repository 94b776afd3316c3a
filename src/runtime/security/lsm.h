// Linux security modules husk does not drive (AppArmor, SELinux): whether the host has
// them, and the one refusal of a profile or label asked of them. Refused, never ignored:
// a user who asks for confinement must not get a container without it unawares.
#pragma once

#include <string_view>

#include "oci/spec.h"

namespace husk::runtime::security {

enum class Lsm { apparmor, selinux };

bool lsm_enabled(Lsm lsm);

// Throws `<what> "<value>": AppArmor is not enabled on this host` (or, where it is,
// that husk does not apply its profiles), as runc refuses a profile without AppArmor.
[[noreturn]] void refuse_lsm(std::string_view what, std::string_view value, Lsm lsm);

// process.apparmorProfile and process.selinuxLabel: refused when set (refuse_lsm).
void check_process_labels(const oci::Process& process);

// linux.mountLabel (an SELinux context for the container's mounts): refused when set.
void check_mount_label(const oci::Linux& lx);

}  // namespace husk::runtime::security
