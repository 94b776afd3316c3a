#include "engine/rootless.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "engine/idrange.h"
#include "sys/error.h"
#include "sys/fileutil.h"

namespace husk::engine {

RootlessMaps rootless_maps(const std::string& user, uint32_t uid, uint32_t gid,
                           const std::string& subuid, const std::string& subgid,
                           bool helpers_present) {
    auto uids = subid_ranges(subuid, user);
    auto gids = subid_ranges(subgid, user);
    RootlessMaps m;
    m.uids = {{0, uid, 1}};
    m.gids = {{0, gid, 1}};
    if (uids.empty() && gids.empty()) {
        m.note = fmt::format(
            "husk: note: user {} has no range in /etc/subuid and /etc/subgid: the container "
            "has one id, root, mapped to uid {} (add a range for more, as for podman)",
            user, uid);
        return m;
    }
    if (uids.empty() || gids.empty())
        throw Error(fmt::format(
            "rootless: user {} has a range in {} but none in {}: add one "
            "(usermod --add-sub{}s)",
            user, uids.empty() ? "/etc/subgid" : "/etc/subuid",
            uids.empty() ? "/etc/subuid" : "/etc/subgid", uids.empty() ? "uid" : "gid"));
    if (!helpers_present)
        throw Error(fmt::format(
            "rootless: the ranges of user {} in /etc/subuid and /etc/subgid are set up through "
            "/usr/bin/newuidmap and /usr/bin/newgidmap: install the uidmap package",
            user));
    // The first range of each, up to 65536 ids: container ids 1..N (root is the user).
    uint32_t n = std::min({uids[0].size, gids[0].size, kContainerIds});
    m.uids.push_back({1, uids[0].host_id, n});
    m.gids.push_back({1, gids[0].host_id, n});
    return m;
}

RootlessMaps rootless_maps() {
    const passwd* pw = ::getpwuid(::geteuid());  // NOLINT(concurrency-mt-unsafe)
    if (pw == nullptr) throw Error(fmt::format("rootless: uid {} has no user name", ::geteuid()));
    auto text = [](const char* path) { return sys::read_file_if_exists(path).value_or(""); };
    bool helpers =
        sys::exists_follow("/usr/bin/newuidmap") && sys::exists_follow("/usr/bin/newgidmap");
    return rootless_maps(pw->pw_name, ::geteuid(), ::getegid(), text("/etc/subuid"),
                         text("/etc/subgid"), helpers);
}

void drop_unmapped_mount_ids(oci::Spec& spec) {
    if (!spec.linux_) return;
    auto mapped = [](const std::vector<oci::IdMapping>& maps, const std::string& v) {
        unsigned long id = 0;
        try {
            id = std::stoul(v);
        } catch (const std::exception&) {
            return true;  // not ours to judge: the kernel says
        }
        return std::any_of(maps.begin(), maps.end(), [&](const oci::IdMapping& m) {
            return id >= m.container_id && id - m.container_id < m.size;
        });
    };
    for (auto& m : spec.mounts)
        std::erase_if(m.options, [&](const std::string& o) {
            if (o.starts_with("uid=")) return !mapped(spec.linux_->uid_mappings, o.substr(4));
            if (o.starts_with("gid=")) return !mapped(spec.linux_->gid_mappings, o.substr(4));
            return false;
        });
}

}  // namespace husk::engine
