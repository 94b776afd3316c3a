// config.json mount options → what the kernel's mount API takes.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace husk::runtime {

struct MountOptions {
    bool bind = false;       // "bind" or "rbind" (or type "bind")
    bool recursive = false;  // "rbind"
    // MOUNT_ATTR_* for the mount itself, and (r* options) for the whole tree.
    uint64_t attr_set = 0, attr_clr = 0;
    uint64_t rattr_set = 0, rattr_clr = 0;
    uint64_t propagation = 0;  // MS_SHARED, MS_SLAVE, MS_PRIVATE, MS_UNBINDABLE or 0
    bool propagation_recursive = false;
    bool idmap = false, ridmap = false;
    bool tmpcopyup = false;
    // Filesystem parameters for fsconfig: {key, value}; value empty = a flag.
    std::vector<std::pair<std::string, std::string>> params;
};

// Parse mount options. `type` decides whether this is a bind mount.
// Throws husk::Error naming the option for contradictions it cannot apply.
MountOptions parse_mount_options(const std::string& type, const std::vector<std::string>& options);

// Propagation names of rootfsPropagation ("rslave", "private", ...) → MS_* flags (with MS_REC).
// Throws for an unknown name.
unsigned long parse_propagation(const std::string& name);

}  // namespace husk::runtime
