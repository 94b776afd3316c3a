#include "engine/system.h"

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
#include "engine/volumes.h"
#include "image/store.h"
#include "oci/spec.h"
#include "runtime/cgroup/layout.h"
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
            {"Driver", storage_driver()},
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

}  // namespace husk::engine
