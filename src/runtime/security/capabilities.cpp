#include "runtime/security/capabilities.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/log.h"

namespace husk::runtime::security {
namespace {

// Indexed by capability number (linux/capability.h); the static_asserts keep
// the table honest against the kernel headers.
constexpr std::array<std::string_view, 41> kCapNames = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
static_assert(CAP_CHOWN == 0 && CAP_SETPCAP == 8 && CAP_SYS_ADMIN == 21 && CAP_MKNOD == 27);
static_assert(CAP_SETFCAP == 31 && CAP_AUDIT_READ == 37 && CAP_PERFMON == 38 && CAP_BPF == 39);
static_assert(CAP_CHECKPOINT_RESTORE == 40 && kCapNames.size() == CAP_CHECKPOINT_RESTORE + 1);

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
        if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
        if (x != y) return false;
    }
    return true;
}

int read_last_cap() {
    std::ifstream in("/proc/sys/kernel/cap_last_cap");
    int n = -1;
    if (in >> n && n >= 0 && n < 64) return n;
    return CAP_LAST_CAP;
}

uint64_t parse_set(const std::vector<std::string>& names, std::string_view field, int last) {
    uint64_t mask = 0;
    for (const auto& name : names) {
        int cap = cap_from_name(name);
        if (cap < 0)
            throw Error(
                fmt::format("process.capabilities.{}: unknown capability \"{}\"", field, name));
        if (cap > last) {
            log::warn("process.capabilities.{}: {} is not supported by this kernel, ignored", field,
                      name);
            continue;
        }
        mask |= uint64_t{1} << cap;
    }
    return mask;
}

inline int fail(const char** failed_step, const char* step) noexcept {
    int err = errno;
    if (failed_step) *failed_step = step;
    return -err;
}

}  // namespace

int last_cap() {
    static const int cached = read_last_cap();
    return cached;
}

int cap_from_name(std::string_view name) {
    for (size_t i = 0; i < kCapNames.size(); ++i)
        if (iequals(name, kCapNames[i])) return static_cast<int>(i);
    return -1;
}

std::string cap_name(int cap) {
    if (cap >= 0 && static_cast<size_t>(cap) < kCapNames.size()) return std::string(kCapNames[cap]);
    return fmt::format("CAP_{}", cap);
}

std::vector<std::string> cap_names(uint64_t mask) {
    std::vector<std::string> out;
    for (int i = 0; i < 64; ++i)
        if (mask & (uint64_t{1} << i)) out.push_back(cap_name(i));
    return out;
}

CapSets parse_capabilities(const oci::Capabilities& caps) {
    CapSets s;
    s.last_cap = last_cap();
    s.bounding = parse_set(caps.bounding, "bounding", s.last_cap);
    s.effective = parse_set(caps.effective, "effective", s.last_cap);
    s.permitted = parse_set(caps.permitted, "permitted", s.last_cap);
    s.inheritable = parse_set(caps.inheritable, "inheritable", s.last_cap);
    s.ambient = parse_set(caps.ambient, "ambient", s.last_cap);
    if (uint64_t extra = s.effective & ~s.permitted) {
        throw Error(fmt::format("process.capabilities.effective: {} not in permitted",
                                fmt::join(cap_names(extra), ", ")));
    }
    if (uint64_t lost = s.ambient & ~(s.permitted & s.inheritable)) {
        log::warn("process.capabilities.ambient: {} not in both permitted and inheritable, ignored",
                  fmt::join(cap_names(lost), ", "));
        s.ambient &= s.permitted & s.inheritable;
    }
    return s;
}

int drop_bounding(const CapSets& caps, const char** failed_step) noexcept {
    for (int cap = 0; cap <= caps.last_cap && cap < 64; ++cap) {
        if (caps.bounding & (uint64_t{1} << cap)) continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
            // A kernel older than our headers does not know this capability: nothing to drop.
            if (errno == EINVAL) continue;
            return fail(failed_step, "prctl(PR_CAPBSET_DROP)");
        }
    }
    return 0;
}

int apply_capabilities(const CapSets& caps, const char** failed_step) noexcept {
    __user_cap_header_struct header{};
    header.version = _LINUX_CAPABILITY_VERSION_3;
    header.pid = 0;
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; ++i) {
        int shift = 32 * i;
        data[i].effective = static_cast<uint32_t>(caps.effective >> shift);
        data[i].permitted = static_cast<uint32_t>(caps.permitted >> shift);
        data[i].inheritable = static_cast<uint32_t>(caps.inheritable >> shift);
    }
    if (syscall(SYS_capset, &header, data) != 0) return fail(failed_step, "capset");

    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
        // Kernels before 4.3 have no ambient set; fine as long as none is asked for.
        if (errno != EINVAL || caps.ambient != 0)
            return fail(failed_step, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
    }
    for (int cap = 0; cap <= caps.last_cap && cap < 64; ++cap) {
        if (!(caps.ambient & (uint64_t{1} << cap))) continue;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0)
            return fail(failed_step, "prctl(PR_CAP_AMBIENT_RAISE)");
    }
    return 0;
}

}  // namespace husk::runtime::security
