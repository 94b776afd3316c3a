#include "engine/paths.h"

#include <cstdlib>

#include "sys/user_dirs.h"

namespace husk::engine {

namespace {
constexpr const char* kSystemDataRoot = "/var/lib/husk";
}

std::string default_data_root() {
    return sys::rootless() ? sys::xdg_data_home() + "/husk" : kSystemDataRoot;
}

std::string state_root_of(const std::string& data_root) {
    if (!sys::rootless()) return data_root == kSystemDataRoot ? "/run/husk" : data_root + "/run";
    // The user's own default root: its state in the runtime directory, gone at logout as
    // podman's is (HOME may be unset with --root given: then it is not the default).
    const char* home = std::getenv("HOME");
    const char* xdg = std::getenv("XDG_DATA_HOME");
    if ((home != nullptr && *home == '/') || (xdg != nullptr && *xdg == '/'))
        if (data_root == default_data_root()) return sys::xdg_runtime_dir() + "/husk";
    return data_root + "/run";
}

std::string config_dir() {
    return sys::rootless() ? sys::xdg_config_home() + "/husk" : "/etc/husk";
}

}  // namespace husk::engine
