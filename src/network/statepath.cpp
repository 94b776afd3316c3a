#include "network/statepath.h"

#include <string>
#include <utility>

#include "sys/error.h"
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
    if (!sys::rootless()) return {};
    if (chosen_root().empty())
        throw Error(
            "a user's network state has no directory: network::use_user_state_root is called "
            "first (the engine's state root)");
    return chosen_root();
}

std::string state_path(const std::string& host_path) {
    return user_state_root() + host_path;
}

}  // namespace husk::network
