// husk's security defaults, equal in effect to docker's: the default
// capability set and the default seccomp profile (data/seccomp-default.json,
// embedded in the binary at build time).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "oci/spec.h"

namespace husk::runtime::security {

// docker's default capability set (the same list for all five sets in
// `husk-runtime spec`/`husk run`, except ambient and inheritable which stay empty).
std::vector<std::string> default_capabilities();

// The text of data/seccomp-default.json (a linux.seccomp object).
std::string_view default_seccomp_json();

// The default profile, parsed from the embedded JSON; `architectures` is set
// for the host: x86_64 -> x86_64 + x86 + x32, aarch64 -> aarch64 + arm, other
// hosts -> the native architecture only.
oci::Seccomp default_seccomp();

}  // namespace husk::runtime::security
