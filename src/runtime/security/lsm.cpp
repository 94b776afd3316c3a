#include "runtime/security/lsm.h"

#include <fcntl.h>
#include <unistd.h>

#include "sys/error.h"
#include "sys/fd.h"

namespace husk::runtime::security {

bool lsm_enabled(Lsm lsm) {
    if (lsm == Lsm::selinux) return ::access("/sys/fs/selinux/enforce", F_OK) == 0;
    sys::UniqueFd fd(::open("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC));
    char c = 0;
    return fd && ::read(fd.get(), &c, 1) == 1 && c == 'Y';
}

void refuse_lsm(std::string_view what, std::string_view value, Lsm lsm) {
    const char* name = lsm == Lsm::apparmor ? "AppArmor" : "SELinux";
    const char* things = lsm == Lsm::apparmor ? "profiles" : "labels";
    if (lsm_enabled(lsm))
        throw Error(
            error_format("{} \"{}\": husk does not apply {} {}", what, value, name, things));
    throw Error(error_format("{} \"{}\": {} is not enabled on this host", what, value, name));
}

void check_process_labels(const oci::Process& pr) {
    if (!pr.apparmor_profile.empty())
        refuse_lsm("process.apparmorProfile", pr.apparmor_profile, Lsm::apparmor);
    if (!pr.selinux_label.empty())
        refuse_lsm("process.selinuxLabel", pr.selinux_label, Lsm::selinux);
}

void check_mount_label(const oci::Linux& lx) {
    if (!lx.mount_label.empty()) refuse_lsm("linux.mountLabel", lx.mount_label, Lsm::selinux);
}

}  // namespace husk::runtime::security
