// Host id ranges for `--userns=auto`: the container's root is an unprivileged
// host uid. Ranges come from the /etc/subuid and /etc/subgid entries of the user
// "containers" (as podman does), or, where there are none, from the default range
// 1000000000-1065535999 (1000 containers of 65536 ids). Ranges of the containers
// known to the database never overlap.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "oci/spec.h"

namespace husk::engine {

// Ranges of host ids are id maps whose host side is what counts (host_id, size),
// container_id 0, as containers/storage keeps subordinate ids.

inline constexpr uint32_t kDefaultRangeStart = 1000000000;
inline constexpr uint32_t kDefaultRangeSize = 65536u * 1000u;
inline constexpr uint32_t kContainerIds = 65536;

// The entries of `user` in a subid file's text ("containers:100000:65536").
std::vector<oci::IdMapping> subid_ranges(const std::string& text, const std::string& user);

// The ranges available to containers: from /etc/subuid AND /etc/subgid (uid and gid
// are taken equal, so only starts present in both count), else the default range.
std::vector<oci::IdMapping> available_ranges();

// The lowest host id of `size` ids within `avail` that overlaps no host range of
// `used` (other containers' maps); throws when every range is full.
uint32_t pick_range(const std::vector<oci::IdMapping>& avail,
                    const std::vector<oci::IdMapping>& used, uint32_t size);

}  // namespace husk::engine
