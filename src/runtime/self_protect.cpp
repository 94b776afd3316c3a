#include "runtime/self_protect.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "sys/log.h"
#include "sys/self_exe.h"

namespace husk::runtime {

bool container_may_write_runtime(const oci::Spec& spec) {
    if (!spec.linux_) return true;
    bool new_userns = false;
    for (const auto& n : spec.linux_->namespaces)
        if (n.type == "user") {
            if (!n.path.empty()) return true;  // somebody else's mappings: assume the worst
            new_userns = true;
        }
    if (!new_userns) return true;
    struct stat st {};
    if (::stat("/proc/self/exe", &st) != 0) return true;
    for (const auto& m : spec.linux_->uid_mappings)
        if (st.st_uid >= m.host_id && st.st_uid - m.host_id < m.size) return true;
    return false;
}

void protect_runtime_binary(const oci::Spec& spec) {
    if (!container_may_write_runtime(spec)) return;
    if (!sys::reexec_from_readonly_self())
        log::debug("cannot run husk-runtime from a read-only mount of itself: {}",
                   std::strerror(errno));
}

}  // namespace husk::runtime
