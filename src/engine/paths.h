// Where husk keeps its data and state for the user running it (issue 17): root keeps
// /var/lib/husk, /run/husk and /etc/husk; a user (rootless) gets $XDG_DATA_HOME/husk,
// $XDG_RUNTIME_DIR/husk and $XDG_CONFIG_HOME/husk (sys/user_dirs.h). `--root` still
// chooses the data root; a data root of one's own keeps its runtime state in <root>/run.
#pragma once

#include <string>

namespace husk::engine {

// The data root when no --root is given.
std::string default_data_root();
// The runtime state root (husk-runtime's --root) of the containers of `data_root`.
std::string state_root_of(const std::string& data_root);
// The configuration directory (registries.json): /etc/husk, or $XDG_CONFIG_HOME/husk.
std::string config_dir();

}  // namespace husk::engine
