// Where husk keeps things for the user running it. Root keeps the system paths
// (/var/lib/husk, /run/husk, /run/husk-runtime); any other user is rootless and gets
// the XDG base directories, as podman and runc do: data under $XDG_DATA_HOME/husk
// (~/.local/share/husk), runtime state under $XDG_RUNTIME_DIR (or, when that is unset,
// a private 0700 directory /tmp/husk-run-<uid> made and checked here), configuration
// under $XDG_CONFIG_HOME/husk (~/.config/husk).
#pragma once

#include <sys/types.h>

#include <string>

namespace husk::sys {

// Our effective uid as it was at the first call (later calls may come from inside a user
// namespace we entered since, where we are root). 0 is not always the host's root: we may
// have started as root of a user namespace (in_user_namespace).
uid_t host_euid();
// Whether this process runs without root on the host (effective uid not 0).
bool rootless();
// Whether this process is in a user namespace other than the host's (its uid_map is not
// the identity map of every id): root there is no root on the host (rootless podman runs
// the OCI runtime so). Decided at the first call.
bool in_user_namespace();
// rootless() or in_user_namespace(): what the host's root may do is not ours (runc's
// rootless "auto").
bool unprivileged();

// The user name of our effective uid (its number when it has none), read from /etc/passwd
// directly (fgetpwent): getpwuid goes through NSS, which the static husk-runtime can only
// reach by loading the shared NSS modules of the glibc it was built with.
std::string user_name();

// $XDG_DATA_HOME, else $HOME/.local/share; throws when neither HOME nor it is set.
std::string xdg_data_home();
// $XDG_CONFIG_HOME, else $HOME/.config; throws when neither HOME nor it is set.
std::string xdg_config_home();

// The user's runtime directory: $XDG_RUNTIME_DIR when set, else /tmp/husk-run-<uid>,
// made 0700 on first use and refused unless it is a directory owned by us that no one
// else may enter. `fallback` (when given) is set to whether /tmp was used.
std::string xdg_runtime_dir(bool* fallback = nullptr);

// The note shown when the /tmp fallback is in use: one line, naming the variable.
std::string runtime_dir_note(const std::string& dir);

}  // namespace husk::sys
