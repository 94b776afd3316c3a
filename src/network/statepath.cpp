#include "network/statepath.h"

#include "sys/user_dirs.h"

namespace husk::network {

std::string user_state_root() {
    // once: a process that enters a user's network namespace (engine/rootless_netns.h) asks
    // it first, and is root there afterwards
    static const std::string root =
        sys::rootless() ? sys::xdg_runtime_dir() + "/husk-net" : std::string();
    return root;
}

std::string state_path(const std::string& host_path) {
    return user_state_root() + host_path;
}

}  // namespace husk::network
