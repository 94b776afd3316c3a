// How a user-namespaced container's ids map to the host's: what prepare_rootfs
// shifts the image's owners by and what the container's uid/gid maps say.
#pragma once

#include <cstdint>
#include <vector>

#include "oci/spec.h"

namespace husk::image {

// A user-namespaced container: container uid/gid 0 is host uid/gid `uid`/`gid`,
// for `size` ids; or, when `uid_maps`/`gid_maps` are set (--uidmap, several ranges),
// those maps instead.
struct IdShift {
    uint32_t uid = 0;
    uint32_t gid = 0;
    uint32_t size = 65536;
    std::vector<oci::IdMapping> uid_maps, gid_maps;

    std::vector<oci::IdMapping> uids() const;
    std::vector<oci::IdMapping> gids() const;
    // The host id of a container id; 65534 (nobody) when no range maps it.
    uint32_t host_uid(uint32_t container_uid) const;
    uint32_t host_gid(uint32_t container_gid) const;
    // The container id of a host id; 65534 (nobody) when no range holds it.
    uint32_t container_uid(uint32_t host_uid) const;
    uint32_t container_gid(uint32_t host_gid) const;
};

// The container id of host id `id` under `maps` (container -> host); 65534 (the overflow
// id, nobody) when no range holds it.
uint32_t container_id_of(const std::vector<oci::IdMapping>& maps, uint32_t id) noexcept;

}  // namespace husk::image
