#include "image/idmap.h"

#include <fcntl.h>
#include <sys/mount.h>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/mount_api.h"
#include "sys/userns.h"

namespace husk::image {

using sys::UniqueFd;

sys::UniqueFd make_userns(const IdShift& shift) {
    auto text = [](const std::vector<oci::IdMapping>& maps) {
        std::string t;
        for (const auto& m : maps)
            t += fmt::format("{} {} {}\n", m.container_id, m.host_id, m.size);
        return t;
    };
    return sys::userns_with_maps(text(shift.uids()), text(shift.gids()));
}

void idmapped_mount(const std::string& src, const std::string& dst, int userns_fd) {
    UniqueFd tree(sys::clone_mount(AT_FDCWD, src.c_str()));
    if (!tree) throw_sys("open_tree", src, -tree.get());
    if (int r = sys::idmap_mount(tree.get(), userns_fd, false, MOUNT_ATTR_RDONLY); r < 0)
        throw_sys("mount_setattr MOUNT_ATTR_IDMAP", src, -r);
    if (int r = sys::attach_mount_at(tree.get(), dst.c_str()); r < 0)
        throw_sys("move_mount", dst, -r);
}

}  // namespace husk::image
