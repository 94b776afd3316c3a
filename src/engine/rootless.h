// `husk` run by an ordinary user (issue 17): every container gets a user namespace whose
// root is the user; with a range of the user in /etc/subuid and /etc/subgid, container
// ids 1..N map to that range (written by newuidmap/newgidmap, package uidmap), as podman
// does; without one, the user alone (a note says so).
#pragma once

#include <string>
#include <vector>

#include "oci/spec.h"

namespace husk::engine {

struct RootlessMaps {
    std::vector<oci::IdMapping> uids, gids;
    std::string note;  // one line for stderr when there is no range, else empty
};

// The maps for a container of the user running us, from the subid files' text (for
// tests) and whether the helpers exist; throws naming the file to fix.
RootlessMaps rootless_maps(const std::string& user, uint32_t uid, uint32_t gid,
                           const std::string& subuid, const std::string& subgid,
                           bool helpers_present);
// The same for this process: /etc/subuid, /etc/subgid, /usr/bin/newuidmap.
RootlessMaps rootless_maps();

// Mount options naming an id the container's maps do not hold (devpts' gid=5 where only
// root is mapped) are refused by the kernel: dropped, as runc's spec --rootless does.
void drop_unmapped_mount_ids(oci::Spec& spec);

}  // namespace husk::engine
