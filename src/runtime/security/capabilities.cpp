#include "runtime/security/capabilities.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

#include "oci/names.h"
#include "sys/error.h"
#include "sys/log.h"

namespace husk::runtime::security {
namespace {

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
    return oci::capability_number(name).value_or(-1);
}

std::string cap_name(int cap) {
    auto names = oci::capability_names();
    if (cap >= 0 && static_cast<size_t>(cap) < names.size()) return std::string(names[cap]);
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

// --- child side: runs between clone and execve ---

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

// --- end child side ---

}  // namespace husk::runtime::security
