// Linux security modules husk does not drive (AppArmor, SELinux): whether the host has
// them, and the one refusal of a profile or label asked of them. Refused, never ignored:
// a user who asks for confinement must not get a container without it unawares.
#pragma once

#include <string_view>

namespace husk::runtime::security {

enum class Lsm { apparmor, selinux };

bool lsm_enabled(Lsm lsm);

// Throws `<what> "<value>": AppArmor is not enabled on this host` (or, where it is,
// that husk does not apply its profiles), as runc refuses a profile without AppArmor.
[[noreturn]] void refuse_lsm(std::string_view what, std::string_view value, Lsm lsm);

}  // namespace husk::runtime::security
