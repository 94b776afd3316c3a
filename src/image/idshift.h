// How a user-namespaced container's ids map to the host's: what prepare_rootfs
// shifts the image's owners by and what the container's uid/gid maps say.
#pragma once

#include <cstdint>
#include <vector>

namespace husk::image {

// One range of a user namespace's map: container ids inside..inside+count-1 are host
// ids outside..outside+count-1.
struct IdRangeMap {
    uint32_t inside = 0;
    uint32_t outside = 0;
    uint32_t count = 0;
};

// A user-namespaced container: container uid/gid 0 is host uid/gid `uid`/`gid`,
// for `size` ids; or, when `uid_maps`/`gid_maps` are set (--uidmap, several ranges),
// those maps instead.
struct IdShift {
    uint32_t uid = 0;
    uint32_t gid = 0;
    uint32_t size = 65536;
    std::vector<IdRangeMap> uid_maps, gid_maps;

    std::vector<IdRangeMap> uids() const;
    std::vector<IdRangeMap> gids() const;
    // The host id of a container id; 65534 (nobody) when no range maps it.
    uint32_t host_uid(uint32_t container_uid) const;
    uint32_t host_gid(uint32_t container_gid) const;
};

}  // namespace husk::image
