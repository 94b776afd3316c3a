#include "runtime/security/defaults.h"

#include <sys/utsname.h>

#include <cstring>

#include "runtime/security/seccomp.h"

namespace husk::runtime::security {

// Generated from data/seccomp-default.json by embed_json.cmake.
extern const char kSeccompDefaultJson[];

std::vector<std::string> default_capabilities() {
    return {"CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
            "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
            "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
            "CAP_KILL",    "CAP_AUDIT_WRITE"};
}

std::string_view default_seccomp_json() {
    return kSeccompDefaultJson;
}

oci::Seccomp default_seccomp() {
    oci::Seccomp p = parse_seccomp_json(std::string(default_seccomp_json()));
    struct utsname u {};
    uname(&u);
    if (std::strcmp(u.machine, "x86_64") == 0) {
        p.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
    } else if (std::strcmp(u.machine, "aarch64") == 0) {
        p.architectures = {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
    } else {
        p.architectures.clear();  // libseccomp adds the native architecture
    }
    return p;
}

}  // namespace husk::runtime::security
