#include "image/idshift.h"

namespace husk::image {

std::vector<oci::IdMapping> IdShift::uids() const {
    return uid_maps.empty() ? std::vector<oci::IdMapping>{{0, uid, size}} : uid_maps;
}

std::vector<oci::IdMapping> IdShift::gids() const {
    return gid_maps.empty() ? std::vector<oci::IdMapping>{{0, gid, size}} : gid_maps;
}

namespace {
uint32_t to_host(const std::vector<oci::IdMapping>& maps, uint32_t id) {
    for (auto& m : maps)
        if (id >= m.container_id && id - m.container_id < m.size)
            return m.host_id + (id - m.container_id);
    return 65534;
}
}  // namespace

uint32_t container_id_of(const std::vector<oci::IdMapping>& maps, uint32_t id) noexcept {
    for (auto& m : maps)
        if (id >= m.host_id && id - m.host_id < m.size) return m.container_id + (id - m.host_id);
    return 65534;
}

uint32_t IdShift::container_uid(uint32_t host_uid) const {
    return container_id_of(uids(), host_uid);
}

uint32_t IdShift::container_gid(uint32_t host_gid) const {
    return container_id_of(gids(), host_gid);
}

uint32_t IdShift::host_uid(uint32_t container_uid) const {
    return to_host(uids(), container_uid);
}

uint32_t IdShift::host_gid(uint32_t container_gid) const {
    return to_host(gids(), container_gid);
}

}  // namespace husk::image
