// Linux capabilities of the container process: names <-> numbers, the five
// sets of process.capabilities as bit masks, and the child-side calls that
// apply them between clone and execve.
//
// Everything that allocates or can fail with a message happens in the parent
// (parse_capabilities); the child only runs drop_bounding / apply_capabilities,
// which are async-signal-safe (raw prctl/capset, no allocation, no throw).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "oci/spec.h"

namespace husk::runtime::security {

// The five capability sets as masks (bit N = capability N), plus the highest
// capability the running kernel knows (bounding-set drops go up to it).
struct CapSets {
    uint64_t bounding = 0, effective = 0, permitted = 0, inheritable = 0, ambient = 0;
    int last_cap = 40;  // /proc/sys/kernel/cap_last_cap, read in the parent
};

// The highest capability number of the running kernel
// (/proc/sys/kernel/cap_last_cap, read once and cached; 40 when unreadable).
int last_cap();

// "CAP_CHOWN" -> 0, ... "CAP_CHECKPOINT_RESTORE" -> 40 (the spec's spelling,
// from oci/names.h); -1 when unknown.
int cap_from_name(std::string_view name);
// 0 -> "CAP_CHOWN"; numbers this build does not know -> "CAP_<n>".
std::string cap_name(int cap);

// Masks from process.capabilities. An unknown name is an error naming the field:
//   process.capabilities.bounding: unknown capability "CAP_FOO"
// A known capability that the running kernel lacks (above cap_last_cap) is
// skipped with a warning, as runc does. Ambient capabilities that are not in
// both permitted and inheritable cannot be raised: they are dropped with a
// warning (runc warns and continues as well). effective must be a subset of
// permitted (the kernel would refuse capset with EPERM): an error here.
CapSets parse_capabilities(const oci::Capabilities& caps);
// Names of the capabilities in `mask`, in number order.
std::vector<std::string> cap_names(uint64_t mask);

// ---- child side: async-signal-safe, return 0 or -errno, never throw ----------
// On failure *failed_step (when not null) points to a static string naming the
// step ("prctl(PR_CAPBSET_DROP)", "capset", ...).

// PR_CAPBSET_DROP for every capability 0..last_cap not in caps.bounding.
// Needs CAP_SETPCAP, so it runs before the capabilities are reduced.
int drop_bounding(const CapSets& caps, const char** failed_step = nullptr) noexcept;

// capset(2) (version 3, two 32-bit words) with effective, permitted and
// inheritable; then PR_CAP_AMBIENT_CLEAR_ALL and PR_CAP_AMBIENT_RAISE for each
// ambient capability. Runs after setresuid (with PR_SET_KEEPCAPS around it).
int apply_capabilities(const CapSets& caps, const char** failed_step = nullptr) noexcept;

}  // namespace husk::runtime::security
