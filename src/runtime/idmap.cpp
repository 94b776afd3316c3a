#include "runtime/idmap.h"

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/fileutil.h"

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

}  // namespace husk::runtime
