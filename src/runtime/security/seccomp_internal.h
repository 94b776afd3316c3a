// Shared by the seccomp sources; not part of the module's API.
#pragma once

#include "runtime/security/seccomp.h"

namespace husk::runtime::security {

// Everything of a SeccompProgram except the BPF itself (flags, notify,
// listener), validated; cheap (no libseccomp), so a cache hit needs only this.
SeccompProgram program_settings(const oci::Seccomp& profile);

}  // namespace husk::runtime::security
