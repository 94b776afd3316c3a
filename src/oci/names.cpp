#include "oci/names.h"

#include <sys/resource.h>

#include <algorithm>
#include <array>

namespace husk::oci {

namespace {

using namespace std::string_view_literals;

constexpr std::array kCapabilities = {
    "CAP_CHOWN"sv,
    "CAP_DAC_OVERRIDE"sv,
    "CAP_DAC_READ_SEARCH"sv,
    "CAP_FOWNER"sv,
    "CAP_FSETID"sv,
    "CAP_KILL"sv,
    "CAP_SETGID"sv,
    "CAP_SETUID"sv,
    "CAP_SETPCAP"sv,
    "CAP_LINUX_IMMUTABLE"sv,
    "CAP_NET_BIND_SERVICE"sv,
    "CAP_NET_BROADCAST"sv,
    "CAP_NET_ADMIN"sv,
    "CAP_NET_RAW"sv,
    "CAP_IPC_LOCK"sv,
    "CAP_IPC_OWNER"sv,
    "CAP_SYS_MODULE"sv,
    "CAP_SYS_RAWIO"sv,
    "CAP_SYS_CHROOT"sv,
    "CAP_SYS_PTRACE"sv,
    "CAP_SYS_PACCT"sv,
    "CAP_SYS_ADMIN"sv,
    "CAP_SYS_BOOT"sv,
    "CAP_SYS_NICE"sv,
    "CAP_SYS_RESOURCE"sv,
    "CAP_SYS_TIME"sv,
    "CAP_SYS_TTY_CONFIG"sv,
    "CAP_MKNOD"sv,
    "CAP_LEASE"sv,
    "CAP_AUDIT_WRITE"sv,
    "CAP_AUDIT_CONTROL"sv,
    "CAP_SETFCAP"sv,
    "CAP_MAC_OVERRIDE"sv,
    "CAP_MAC_ADMIN"sv,
    "CAP_SYSLOG"sv,
    "CAP_WAKE_ALARM"sv,
    "CAP_BLOCK_SUSPEND"sv,
    "CAP_AUDIT_READ"sv,
    "CAP_PERFMON"sv,
    "CAP_BPF"sv,
    "CAP_CHECKPOINT_RESTORE"sv,
};

struct RlimitName {
    std::string_view name;
    int number;
};
constexpr std::array kRlimits = {
    RlimitName{"RLIMIT_CPU", RLIMIT_CPU},
    RlimitName{"RLIMIT_FSIZE", RLIMIT_FSIZE},
    RlimitName{"RLIMIT_DATA", RLIMIT_DATA},
    RlimitName{"RLIMIT_STACK", RLIMIT_STACK},
    RlimitName{"RLIMIT_CORE", RLIMIT_CORE},
    RlimitName{"RLIMIT_RSS", RLIMIT_RSS},
    RlimitName{"RLIMIT_NPROC", RLIMIT_NPROC},
    RlimitName{"RLIMIT_NOFILE", RLIMIT_NOFILE},
    RlimitName{"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    RlimitName{"RLIMIT_AS", RLIMIT_AS},
    RlimitName{"RLIMIT_LOCKS", RLIMIT_LOCKS},
    RlimitName{"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    RlimitName{"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    RlimitName{"RLIMIT_NICE", RLIMIT_NICE},
    RlimitName{"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    RlimitName{"RLIMIT_RTTIME", RLIMIT_RTTIME},
};
constexpr auto kRlimitNames = [] {
    std::array<std::string_view, kRlimits.size()> out{};
    for (size_t i = 0; i < kRlimits.size(); ++i) out[i] = kRlimits[i].name;
    return out;
}();

constexpr std::array kNamespaces = {"pid"sv, "network"sv, "mount"sv,  "ipc"sv,
                                    "uts"sv, "user"sv,    "cgroup"sv, "time"sv};
constexpr std::array kPropagations = {"shared"sv,  "slave"sv,  "private"sv,  "unbindable"sv,
                                      "rshared"sv, "rslave"sv, "rprivate"sv, "runbindable"sv};
constexpr std::array kSeccompActions = {
    "SCMP_ACT_KILL"sv,  "SCMP_ACT_KILL_PROCESS"sv, "SCMP_ACT_KILL_THREAD"sv,
    "SCMP_ACT_TRAP"sv,  "SCMP_ACT_ERRNO"sv,        "SCMP_ACT_TRACE"sv,
    "SCMP_ACT_ALLOW"sv, "SCMP_ACT_LOG"sv,          "SCMP_ACT_NOTIFY"sv,
};
constexpr std::array kSeccompOps = {"SCMP_CMP_NE"sv,       "SCMP_CMP_LT"sv, "SCMP_CMP_LE"sv,
                                    "SCMP_CMP_EQ"sv,       "SCMP_CMP_GE"sv, "SCMP_CMP_GT"sv,
                                    "SCMP_CMP_MASKED_EQ"sv};
constexpr std::array kSeccompArchs = {
    "SCMP_ARCH_X86"sv,      "SCMP_ARCH_X86_64"sv,      "SCMP_ARCH_X32"sv,
    "SCMP_ARCH_ARM"sv,      "SCMP_ARCH_AARCH64"sv,     "SCMP_ARCH_MIPS"sv,
    "SCMP_ARCH_MIPS64"sv,   "SCMP_ARCH_MIPS64N32"sv,   "SCMP_ARCH_MIPSEL"sv,
    "SCMP_ARCH_MIPSEL64"sv, "SCMP_ARCH_MIPSEL64N32"sv, "SCMP_ARCH_PPC"sv,
    "SCMP_ARCH_PPC64"sv,    "SCMP_ARCH_PPC64LE"sv,     "SCMP_ARCH_S390"sv,
    "SCMP_ARCH_S390X"sv,    "SCMP_ARCH_PARISC"sv,      "SCMP_ARCH_PARISC64"sv,
    "SCMP_ARCH_RISCV64"sv,  "SCMP_ARCH_LOONGARCH64"sv, "SCMP_ARCH_M68K"sv,
    "SCMP_ARCH_SH"sv,       "SCMP_ARCH_SHEB"sv,
};
constexpr std::array kSeccompFlags = {"SECCOMP_FILTER_FLAG_TSYNC"sv, "SECCOMP_FILTER_FLAG_LOG"sv,
                                      "SECCOMP_FILTER_FLAG_SPEC_ALLOW"sv,
                                      "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"sv};
constexpr std::array kSchedPolicies = {"SCHED_OTHER"sv,   "SCHED_FIFO"sv, "SCHED_RR"sv,
                                       "SCHED_BATCH"sv,   "SCHED_ISO"sv,  "SCHED_IDLE"sv,
                                       "SCHED_DEADLINE"sv};
constexpr std::array kSchedFlags = {"SCHED_FLAG_RESET_ON_FORK"sv, "SCHED_FLAG_RECLAIM"sv,
                                    "SCHED_FLAG_DL_OVERRUN"sv,    "SCHED_FLAG_KEEP_POLICY"sv,
                                    "SCHED_FLAG_KEEP_PARAMS"sv,   "SCHED_FLAG_UTIL_CLAMP_MIN"sv,
                                    "SCHED_FLAG_UTIL_CLAMP_MAX"sv};
constexpr std::array kIoprioClasses = {"IOPRIO_CLASS_RT"sv, "IOPRIO_CLASS_BE"sv,
                                       "IOPRIO_CLASS_IDLE"sv};
constexpr std::array kMpolModes = {"MPOL_DEFAULT"sv,
                                   "MPOL_PREFERRED"sv,
                                   "MPOL_BIND"sv,
                                   "MPOL_INTERLEAVE"sv,
                                   "MPOL_LOCAL"sv,
                                   "MPOL_PREFERRED_MANY"sv,
                                   "MPOL_WEIGHTED_INTERLEAVE"sv};
constexpr std::array kMpolFlags = {"MPOL_F_NUMA_BALANCING"sv, "MPOL_F_RELATIVE_NODES"sv,
                                   "MPOL_F_STATIC_NODES"sv};
constexpr std::array kPersonalities = {"LINUX"sv, "LINUX32"sv};
constexpr std::array kHooks = {"prestart"sv,       "createRuntime"sv, "createContainer"sv,
                               "startContainer"sv, "poststart"sv,     "poststop"sv};

}  // namespace

bool contains(NameList list, std::string_view name) {
    return std::find(list.begin(), list.end(), name) != list.end();
}

std::optional<int> capability_number(std::string_view name) {
    auto it = std::find(kCapabilities.begin(), kCapabilities.end(), name);
    if (it == kCapabilities.end()) return std::nullopt;
    return static_cast<int>(it - kCapabilities.begin());
}
NameList capability_names() {
    return kCapabilities;
}

std::optional<int> rlimit_number(std::string_view name) {
    for (const auto& r : kRlimits)
        if (r.name == name) return r.number;
    return std::nullopt;
}
NameList rlimit_names() {
    return kRlimitNames;
}

NameList namespace_types() {
    return kNamespaces;
}
NameList rootfs_propagations() {
    return kPropagations;
}
NameList seccomp_actions() {
    return kSeccompActions;
}
NameList seccomp_operators() {
    return kSeccompOps;
}
NameList seccomp_archs() {
    return kSeccompArchs;
}
NameList seccomp_flags() {
    return kSeccompFlags;
}
NameList scheduler_policies() {
    return kSchedPolicies;
}
NameList scheduler_flags() {
    return kSchedFlags;
}
NameList ioprio_classes() {
    return kIoprioClasses;
}
NameList memory_policy_modes() {
    return kMpolModes;
}
NameList memory_policy_flags() {
    return kMpolFlags;
}
NameList personality_domains() {
    return kPersonalities;
}
NameList hook_names() {
    return kHooks;
}

}  // namespace husk::oci
