#include "network/statepath.h"

#include <string>
#include <utility>

#include "sys/user_dirs.h"

namespace husk::network {

namespace {
std::string& chosen_root() {
    static std::string dir;
    return dir;
}
}  // namespace

void use_user_state_root(std::string dir) {
    chosen_root() = std::move(dir);
}

std::string user_state_root() {
    // once: a process that enters a user's network namespace (engine/rootless_netns.h) asks
    // it first, and is root there afterwards
    static const std::string root = !sys::rootless()         ? std::string()
                                    : !chosen_root().empty() ? chosen_root()
                                                             : sys::xdg_runtime_dir() + "/husk-net";
    return root;
}

std::string state_path(const std::string& host_path) {
    return user_state_root() + host_path;
}

}  // namespace husk::network
