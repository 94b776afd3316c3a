// Signal names as engines send them: "9", "KILL", "SIGKILL", "SIGRTMIN+3", "RTMAX-1".
#pragma once

#include <string>

namespace husk::runtime {

// Throws husk::Error `unknown signal "FOO"` for anything else.
int parse_signal(const std::string& text);

}  // namespace husk::runtime
