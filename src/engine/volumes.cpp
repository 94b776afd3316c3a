#include "engine/volumes.h"

#include "engine/events.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "image/store.h"
#include "runtime/state.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/log.h"
#include "sys/safe_path.h"

namespace husk::engine {
namespace {

using sys::UniqueFd;

nlohmann::json to_json(const Volume& v) {
    return {
        {"name", v.name}, {"created", v.created}, {"anonymous", v.anonymous}, {"labels", v.labels}};
}

}  // namespace

bool valid_volume_name(const std::string& name) {
    auto ok = [](char c, bool first) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               (!first && (c == '_' || c == '.' || c == '-'));
    };
    if (name.size() < 2) return false;
    for (size_t i = 0; i < name.size(); ++i)
        if (!ok(name[i], i == 0)) return false;
    return true;
}

VolumeStore::VolumeStore(const std::string& data_root)
    : data_root_(data_root), root_(data_root + "/volumes") {}

std::string VolumeStore::data_dir(const std::string& name) const {
    return root_ + "/" + name + "/_data";
}

bool VolumeStore::create(const std::string& name, bool anonymous,
                         const std::map<std::string, std::string>& labels) {
    check_volume_name(name);
    sys::mkdir_all(root_, 0701);
    std::string dir = root_ + "/" + name;
    if (::mkdir(dir.c_str(), 0701) != 0) {
        if (errno == EEXIST && sys::exists_follow(dir + "/volume.json")) return false;
        if (errno != EEXIST) throw_sys("create volume", dir);
    }
    try {
        if (::mkdir((dir + "/_data").c_str(), 0755) != 0 && errno != EEXIST)
            throw_sys("create volume", dir + "/_data");
        Volume v{name, runtime::now_rfc3339(), anonymous, labels, dir + "/_data"};
        sys::write_file_atomic(dir + "/volume.json", to_json(v).dump());
    } catch (...) {
        sys::remove_all(dir);
        throw;
    }
    emit_event(data_root_, {"volume", "create", name, {{"driver", "local"}}, 0});
    return true;
}

std::optional<Volume> VolumeStore::find(const std::string& name) const {
    if (!valid_volume_name(name)) return std::nullopt;
    std::string file = root_ + "/" + name + "/volume.json";
    if (!sys::exists_follow(file)) return std::nullopt;
    auto j = nlohmann::json::parse(sys::read_file(file));
    return Volume{j.value("name", name), j.value("created", ""), j.value("anonymous", false),
                  j.value("labels", std::map<std::string, std::string>{}), data_dir(name)};
}

std::vector<Volume> VolumeStore::list() const {
    std::vector<Volume> out;
    std::vector<std::string> names;
    try {
        names = sys::list_dir(root_);
    } catch (const SysError&) {
        return out;  // an unreadable root lists nothing, as a missing one
    }
    for (const auto& name : names) {
        if (name[0] == '.') continue;
        try {
            if (auto v = find(name)) out.push_back(*v);
        } catch (const std::exception&) {
            // removed meanwhile, or a half-made one: not listed
        }
    }
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
    return out;
}

std::vector<std::string> VolumeStore::users(const std::string& name, const Containers& db) const {
    std::vector<std::string> ids;
    for (auto& rec : db.list())
        if (std::find(rec.volumes.begin(), rec.volumes.end(), name) != rec.volumes.end())
            ids.push_back(rec.id);
    return ids;
}

void VolumeStore::remove(const std::string& name, const Containers& db) {
    if (!find(name)) throw Error(fmt::format("get {}: no such volume", name));
    auto ids = users(name, db);
    if (!ids.empty())
        throw Error(fmt::format("remove {}: volume is in use - [{}]", name, fmt::join(ids, ", ")));
    destroy(name);
}

void VolumeStore::destroy(const std::string& name) {
    if (!valid_volume_name(name) || !sys::exists_nofollow(root_ + "/" + name)) return;
    sys::remove_all(root_ + "/" + name);
    emit_event(data_root_, {"volume", "destroy", name, {{"driver", "local"}}, 0});
}

void attach_volumes(const std::string& data_root, RunOptions& o, ContainerRecord& rec,
                    const std::vector<std::string>& image_volumes,
                    const std::function<std::string()>& rootfs, MadeVolumes& made) {
    for (auto& path : image_volumes) {
        bool covered = std::any_of(o.mounts.begin(), o.mounts.end(),
                                   [&](const MountSpec& m) { return m.target == path; });
        if (!covered) o.mounts.push_back(MountSpec{"volume", "", path, false, {}});
    }
    VolumeStore store(data_root);
    for (auto& m : o.mounts) {
        if (m.type != "volume") continue;
        bool anonymous = m.source.empty();
        std::string name = anonymous ? new_container_id() : m.source;
        std::string dir = store.data_dir(name);
        if (store.create(name, anonymous)) {
            (anonymous ? made.anonymous : made.named).push_back(name);
            copy_up(rootfs(), m.target, dir);
            struct stat st {};
            auto shift = rec.id_shift();
            if (shift && ::stat(dir.c_str(), &st) == 0 && st.st_uid == 0 &&
                ::chown(dir.c_str(), shift->host_uid(0), shift->host_gid(0)) != 0)
                throw_sys("chown", dir);
        }
        rec.volumes.push_back(name);
        m = MountSpec{"bind", dir, m.target, m.readonly, m.options};
    }
}

void remove_anonymous_volumes(const std::string& data_root, const ContainerRecord& rec) {
    VolumeStore store(data_root);
    for (auto& name : rec.volumes) {
        try {
            auto v = store.find(name);
            if (v && v->anonymous) store.destroy(name);
        } catch (const std::exception& e) {
            log::warn("removing volume {}: {}", name, e.what());
        }
    }
}

void copy_up(const std::string& rootfs, const std::string& path, const std::string& to) {
    UniqueFd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw_sys("open", rootfs);
    size_t start = path.find_first_not_of('/');
    std::string rel = start == std::string::npos ? "." : path.substr(start);
    int fd = sys::open_in_root(root.get(), rel.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd < 0) return;  // not in the image, or not a directory: nothing to copy
    UniqueFd from(fd);
    UniqueFd dest(::open(to.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dest) throw_sys("open", to);
    with_context(fmt::format("copy {} of the image into the volume", path),
                 [&] { image::copy_tree(from.get(), dest.get(), std::nullopt); });
    struct stat st {};
    if (::fstat(from.get(), &st) != 0) throw_sys("stat", path);
    if (::fchown(dest.get(), st.st_uid, st.st_gid) != 0) throw_sys("chown", to);
    if (::fchmod(dest.get(), st.st_mode & 07777) != 0) throw_sys("chmod", to);
}

}  // namespace husk::engine
