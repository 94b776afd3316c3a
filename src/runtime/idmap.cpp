#include "runtime/idmap.h"

#include <fcntl.h>
#include <sys/mount.h>

#include <cerrno>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/mount_api.h"
#include "sys/userns.h"

namespace husk::runtime {

std::string format_id_map(const std::vector<oci::IdMapping>& m, const char* field) {
    if (m.empty())
        throw Error(fmt::format("{}: a user namespace needs at least one mapping", field));
    if (m.size() > 340)
        throw Error(fmt::format("{}: {} ranges, the kernel allows 340", field, m.size()));
    std::string out;
    for (const auto& r : m) out += fmt::format("{} {} {}\n", r.container_id, r.host_id, r.size);
    return out;
}

void write_id_maps(pid_t pid, const std::vector<oci::IdMapping>& uids,
                   const std::vector<oci::IdMapping>& gids) {
    std::string base = fmt::format("/proc/{}/", pid);
    std::string u = format_id_map(uids, "linux.uidMappings");
    std::string g = format_id_map(gids, "linux.gidMappings");
    with_context("linux.uidMappings", [&] { sys::write_file(base + "uid_map", u); });
    with_context("linux.gidMappings", [&] { sys::write_file(base + "gid_map", g); });
}

sys::UniqueFd userns_with_maps(const std::vector<oci::IdMapping>& uids,
                               const std::vector<oci::IdMapping>& gids) {
    std::string u = format_id_map(uids, "linux.uidMappings");
    std::string g = format_id_map(gids, "linux.gidMappings");
    return sys::userns_with_maps(u, g);
}

sys::UniqueFd open_idmapped_tree(const std::string& source, const MountOptions& o, int userns_fd) {
    sys::UniqueFd tree(sys::clone_mount(AT_FDCWD, source.c_str(), o.recursive ? AT_RECURSIVE : 0));
    if (!tree) throw_sys("bind mount source", source, -tree.get());
    if (int r = sys::idmap_mount(tree.get(), userns_fd, o.ridmap); r < 0)
        throw_sys("idmap mount of", source, -r);
    if (int r = sys::set_mount_attrs(tree.get(), false, o.attr_set, o.attr_clr); r < 0)
        throw_sys("set mount options on", source, -r);
    if (int r = sys::set_mount_attrs(tree.get(), true, o.rattr_set, o.rattr_clr); r < 0)
        throw_sys("set mount options on", source, -r);
    return tree;
}

}  // namespace husk::runtime
