// `husk-runtime features`: what this runtime implements, as runtime-spec
// features.md describes it. Only what works is listed.
#pragma once

#include <string>

namespace husk::runtime {

std::string features_json();

}  // namespace husk::runtime
