#include "engine/system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/image_ops.h"
#include "engine/lifecycle.h"
#include "engine/paths.h"
#include "engine/prune.h"
#include "engine/record.h"
#include "engine/rootless.h"
#include "engine/rootless_netns.h"
#include "engine/volumes.h"
#include "image/owner_shift.h"
#include "image/store.h"
#include "oci/spec.h"
#include "runtime/cgroup/layout.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/raw_tree.h"
#include "sys/user_dirs.h"

namespace husk::engine {

using json = nlohmann::json;

uint64_t image_size(image::Store& store, const image::Image& img) {
    uint64_t total = 0;
    for (size_t i = 0; i < img.chain_ids.size(); ++i) total += layer_size(store, img, i);
    return total;
}

json disk_usage(const EngineContext& ctx, image::Store& store) {
    auto containers = list_containers(ctx);
    std::map<std::string, int> users;  // image id -> containers made from it
    for (auto& c : containers) ++users[c.image_id];
    json images = json::array();
    std::set<std::string> layers;
    uint64_t layers_size = 0;
    for (auto& img : store.images()) {
        for (size_t i = 0; i < img.chain_ids.size(); ++i)
            if (layers.insert(img.chain_ids[i]).second) layers_size += layer_size(store, img, i);
        images.push_back({{"Id", img.id},
                          {"RepoTags", img.names},
                          {"Created", img.config.created},
                          {"Size", image_size(store, img)},
                          {"Containers", users.contains(img.id) ? users[img.id] : 0}});
    }
    json cs = json::array();
    for (auto& c : containers) {
        std::string cmd = fmt::format("{}", fmt::join(c.command, " "));
        cs.push_back({{"Id", c.id},
                      {"Names", json::array({c.name})},
                      {"Image", c.image.empty() ? c.rootfs : c.image},
                      {"Command", cmd},
                      {"Created", c.created},
                      {"State", c.state()},
                      {"SizeRw", container_size_rw(ctx, c.id)}});
    }
    json vols = json::array();
    VolumeStore vstore(ctx.data_root);
    Containers db(ctx.data_root);
    for (auto& v : vstore.list())
        vols.push_back({{"Name", v.name},
                        {"Size", tree_bytes(v.mountpoint)},
                        {"RefCount", vstore.users(v.name, db).size()}});
    return {{"LayersSize", layers_size}, {"Images", images}, {"Containers", cs}, {"Volumes", vols}};
}

std::string cgroup_version() {
    auto l = runtime::cgroup::detect_layout();
    if (!l.v1.empty() && l.v2) return "hybrid";
    return l.v1.empty() ? "2" : "1";
}

std::string storage_driver() {
    std::ifstream in("/proc/filesystems");
    for (std::string line; std::getline(in, line);)
        if (line.ends_with("\toverlay")) return "overlay";
    return "copy";
}

namespace {

std::string os_release_name() {
    std::ifstream in("/etc/os-release");
    for (std::string line; std::getline(in, line);)
        if (line.starts_with("PRETTY_NAME=")) {
            std::string v = line.substr(12);
            if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
            return v;
        }
    return "Linux";
}

std::string go_arch(const std::string& machine) {
    if (machine == "x86_64") return "amd64";
    if (machine == "aarch64") return "arm64";
    return machine;
}

}  // namespace

namespace {

// What a user's container roots are (image/rootfs.cpp: prepare_userns_rootfs): the kernel's
// overlayfs in a user namespace, fuse-overlayfs where the kernel refuses it, else copies.
std::string rootless_driver(image::Store& store) {
    switch (store.userns_overlay()) {
        case image::UsernsOverlay::refused:
            return "copy";
        case image::UsernsOverlay::fuse:
            return "fuse-overlayfs";
        case image::UsernsOverlay::lowerdir:
        case image::UsernsOverlay::lowerdir_add:
            break;
    }
    return "overlay";
}

}  // namespace

json system_info(const EngineContext& ctx, image::Store& store) {
    int running = 0, paused = 0, stopped = 0;
    auto containers = list_containers(ctx);
    for (auto& c : containers) {
        if (c.paused)
            ++paused;
        else if (c.status == ContainerStatus::running)
            ++running;
        else
            ++stopped;
    }
    struct utsname u {};
    ::uname(&u);
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    return {{"Containers", containers.size()},
            {"ContainersRunning", running},
            {"ContainersPaused", paused},
            {"ContainersStopped", stopped},
            {"Images", store.images().size()},
            {"Driver", sys::rootless() ? rootless_driver(store) : storage_driver()},
            {"CgroupDriver", "cgroupfs"},
            {"CgroupVersion", cgroup_version()},
            {"KernelVersion", u.release},
            {"OperatingSystem", os_release_name()},
            {"OSType", "linux"},
            {"Architecture", u.machine},
            {"NCPU", ::sysconf(_SC_NPROCESSORS_ONLN)},
            {"MemTotal", static_cast<int64_t>(::sysconf(_SC_PHYS_PAGES)) *
                             static_cast<int64_t>(::sysconf(_SC_PAGESIZE))},
            {"Name", host},
            {"DockerRootDir", ctx.data_root},
            // rootless mode (issue 17) and where its state and configuration live
            {"Rootless", sys::rootless()},
            {"StateRoot", ctx.state_root()},
            {"ConfigDir", config_dir()},
            {"SecurityOptions", sys::rootless() ? json::array({"name=rootless"}) : json::array()},
            {"ServerVersion", HUSK_VERSION},
            {"DefaultRuntime", "husk-runtime"}};
}

json version_info() {
    struct utsname u {};
    ::uname(&u);
    std::string compiler =
#if defined(__clang__)
        fmt::format("clang {}.{}", __clang_major__, __clang_minor__);
#else
        fmt::format("gcc {}.{}", __GNUC__, __GNUC_MINOR__);
#endif
    return {{"Client",
             {{"Version", HUSK_VERSION},
              {"Os", "linux"},
              {"Arch", go_arch(u.machine)},
              {"Compiler", compiler}}},
            {"Server",
             {{"Version", HUSK_VERSION},
              {"KernelVersion", u.release},
              {"CgroupVersion", cgroup_version()},
              {"StorageDriver", storage_driver()},
              {"Runtime",
               {{"Name", "husk-runtime"},
                {"Version", HUSK_VERSION},
                {"OciVersion", oci::default_spec(false).oci_version}}}}}};
}

namespace {

// One id kind's move in the migration's namespace (see migrate_store): the old range's ids
// [from, from + size) become [from - by, from - by + size), the new range's.
struct IdMove {
    uint32_t from = 0, size = 0, by = 0;
    uint32_t moved(uint32_t id) const noexcept {
        return id >= from && id - from < size ? id - by : id;
    }
};
struct Moves {
    IdMove uid, gid;
};

// For each entry of a walk (between fork and _exit: system calls only): an owner of the old
// range given the same id of the new one, its set-id bits set again (chown clears them).
// What has no old id is left alone, so a migration killed half-way is finished by the next.
bool move_owner(void* ctx, int parent, const char* name, unsigned char type, const char* path,
                sys::RawError& e) {
    const auto* m = static_cast<const Moves*>(ctx);
    struct stat st {};
    if (::fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return e.fail("stat", path, errno);
    uid_t u = m->uid.moved(st.st_uid);
    gid_t g = m->gid.moved(st.st_gid);
    if (u == st.st_uid && g == st.st_gid) return true;
    if (::fchownat(parent, name, u, g, AT_SYMLINK_NOFOLLOW) != 0)
        return e.fail("chown", path, errno);
    if (type != DT_LNK && (st.st_mode & (S_ISUID | S_ISGID)) != 0 &&
        ::fchmodat(parent, name, st.st_mode & 07777, AT_SYMLINK_NOFOLLOW) != 0)
        return e.fail("chmod", path, errno);
    return true;
}

// The one range past the user's own id (container ids 1..N) of a user's maps.
const oci::IdMapping& range_of(const std::vector<oci::IdMapping>& m, const char* what) {
    if (m.size() != 2 || m[0].container_id != 0 || m[1].container_id != 1)
        throw Error(
            fmt::format("migrate: the {} maps are not a user's (0 the user, "
                        "1-N one range)",
                        what));
    return m[1];
}

// The container's config.json given the maps `r` (linux.uidMappings and gidMappings).
void rewrite_bundle_maps(const std::string& path, const image::UserRanges& r) {
    auto text = sys::read_file_if_exists(path);
    if (!text) return;
    json spec = json::parse(*text);
    auto maps = [](const std::vector<oci::IdMapping>& m) {
        json out = json::array();
        for (const auto& x : m)
            out.push_back(
                {{"containerID", x.container_id}, {"hostID", x.host_id}, {"size", x.size}});
        return out;
    };
    spec["linux"]["uidMappings"] = maps(r.uids);
    spec["linux"]["gidMappings"] = maps(r.gids);
    sys::write_file_atomic(path, spec.dump(), 0600, true);
}

}  // namespace

MigrateReport migrate_store(const EngineContext& ctx, image::Store& store) {
    MigrateReport rep;
    if (::geteuid() == 0) return rep;  // root's stores are never shifted
    auto before = store.shifted_for();
    if (!before) return rep;
    const auto& shift = image::owner_shift();
    const std::string refuse_tail = fmt::format(
        "have root give the user the old ranges too for the migration (usermod "
        "--add-subuids/--add-subgids, after the new ones), or remove \"{}\" as root and pull "
        "again",
        store.root());
    if (!shift)
        throw Error(
            fmt::format("migrate: /etc/subuid and /etc/subgid give the user "
                        "no range now, and the store's files have the ids of owner-ranges: "
                        "{}",
                        refuse_tail));
    switch (image::range_change(*before, shift->ranges)) {
        case image::RangeChange::same:
            return rep;
        case image::RangeChange::grown:  // every owner holds: the record only
            store.set_shifted_for(shift->ranges);
            return rep;
        case image::RangeChange::overlap:
            throw Error(
                fmt::format("migrate: the store's uids {} and gids {} (owner-ranges) and "
                            "the user's uids {} and gids {} of /etc/subuid and "
                            "/etc/subgid share host ids at other offsets: a file of "
                            "one of those could be of either; remove \"{}\" as root "
                            "and pull again",
                            image::host_ranges(before->uids), image::host_ranges(before->gids),
                            image::host_ranges(shift->ranges.uids),
                            image::host_ranges(shift->ranges.gids), store.root()),
                EINVAL);
        case image::RangeChange::moved:
            break;
    }
    const auto &old_u = range_of(before->uids, "recorded"),
               &old_g = range_of(before->gids, "recorded");
    const auto &new_u = range_of(shift->ranges.uids, "user's"),
               &new_g = range_of(shift->ranges.gids, "user's");

    auto lock = store.lock_exclusive();  // no pull, load or prune meanwhile
    if (auto holder = user_netns_holder(ctx))
        throw Error(fmt::format("migrate: containers on your networks are running (their "
                                "namespace holder, pid {}, has the old maps): stop them first",
                                holder->pid),
                    EBUSY);
    // each container of the old maps locked until its record has the new ones: a start (or
    // a restart policy's) meanwhile waits, then runs with the new maps
    Containers db(ctx.data_root);
    std::vector<ContainerRecord> moving;
    std::vector<sys::UniqueFd> held;
    for (auto& c : list_containers(ctx)) {
        if (!(image::UserRanges{c.uid_maps, c.gid_maps} == *before)) continue;
        auto lock_fd = db.lock(c.id);
        if (c.status == ContainerStatus::running || db.monitored(c.id))
            throw Error(fmt::format("migrate: container {} is running: stop the "
                                    "user's containers first",
                                    c.name),
                        EBUSY);
        moving.push_back(c);
        held.push_back(std::move(lock_fd));
    }

    // One namespace holding both: 0 the user, 1..N the new range, N+1.. the old one (where
    // newuidmap allows it: both are the user's in /etc/subuid). There a file of the old
    // range's id k (N+k) is given the new range's k, as the layers would have it unpacked now.
    image::UserRanges both{
        {shift->ranges.uids[0], new_u, {1 + new_u.size, old_u.host_id, old_u.size}},
        {shift->ranges.gids[0], new_g, {1 + new_g.size, old_g.host_id, old_g.size}}};
    Moves moves{{1 + new_u.size, std::min(old_u.size, new_u.size), new_u.size},
                {1 + new_g.size, std::min(old_g.size, new_g.size), new_g.size}};
    std::vector<sys::UniqueFd> roots;  // layers, container and build-step roots, volumes
    for (const char* dir : {"snapshots", "rootfs", "volumes"}) {
        std::string path = store.root() + "/" + dir;
        sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!fd && errno != ENOENT) throw_sys("open", path);
        if (fd) roots.push_back(std::move(fd));
    }
    // the layers unpacked while the ranges differed kept their owners in records: applied
    // now, as a pull would have (ids of the new range only)
    std::vector<sys::UniqueFd> layers;
    for (const auto& name : sys::list_dir(store.root() + "/snapshots")) {
        std::string fs = store.root() + "/snapshots/" + name + "/fs";
        sys::UniqueFd fd(::open(fs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!fd) throw_sys("open", fs);
        layers.push_back(std::move(fd));
    }
    bool ran = with_context(
        fmt::format("give the files of \"{}\" the owners of uids {}", store.root(),
                    image::host_ranges(shift->ranges.uids)),
        [&] {
            return in_userns_raw(both.uids, both.gids, [&](sys::RawError& e) {
                for (const auto& fd : roots)
                    if (!sys::walk_tree_raw(fd.get(), move_owner, &moves, e)) return false;
                for (const auto& fd : layers)
                    if (!image::apply_owner_records_raw(fd.get(), new_u.size, new_g.size, e))
                        return false;
                return true;
            });
        });
    if (!ran)
        throw Error(fmt::format("migrate: newuidmap refuses a namespace with both the "
                                "old uids {} and gids {} (owner-ranges) and the new uids {} and "
                                "gids {}: /etc/subuid and /etc/subgid no longer give the user the "
                                "old ones; {}",
                                image::host_ranges(before->uids), image::host_ranges(before->gids),
                                image::host_ranges(shift->ranges.uids),
                                image::host_ranges(shift->ranges.gids), refuse_tail),
                    EPERM);
    // the files have their new owners: the containers' maps, then the store's record (last:
    // a migration killed before it is done again, and moves only what is left)
    for (auto& c : moving) {
        auto now = db.find(c.id);
        if (!now) continue;
        now->uid_maps = shift->ranges.uids;
        now->gid_maps = shift->ranges.gids;
        rewrite_bundle_maps(db.dir(c.id) + "/config.json", shift->ranges);
        db.save(*now);
        ++rep.containers;
    }
    store.set_shifted_for(shift->ranges);
    rep.migrated = true;
    return rep;
}

}  // namespace husk::engine
