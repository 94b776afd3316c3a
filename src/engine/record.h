// The container database, minimal for now: one record per container in
// <data root>/containers/<id>/container.json (written atomically), next to its
// bundle. Names are unique; every change of the set happens under
// <data root>/containers/.lock.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace husk::engine {

struct ContainerRecord {
    std::string id;  // 64 hex digits
    std::string name;
    std::string image;     // as the user named it ("" with --rootfs)
    std::string image_id;  // "sha256:..." ("" with --rootfs)
    std::string rootfs;    // the root filesystem directory
    std::vector<std::string> command;
    std::string created;             // RFC 3339
    std::string status = "created";  // created | running | exited
    std::string finished;
    int exit_code = 0;
    bool oom_killed = false;
    bool auto_remove = false;
    uint32_t userns_base = 0;  // host uid = host gid of the container's root (0: no userns)
    uint32_t userns_size = 0;
};

class Containers {
  public:
    explicit Containers(std::string data_root);

    std::string dir(const std::string& id) const { return root_ + "/" + id; }

    // Adds `rec` (its directory made) unless its name is taken:
    //   the container name "web" is already in use by container "3f2a..."
    // `prepare` runs under the lock first, with every existing record (e.g. to pick
    // an id range no other container uses).
    void add(ContainerRecord& rec,
             const std::function<void(ContainerRecord&, const std::vector<ContainerRecord>&)>&
                 prepare = {});
    void save(const ContainerRecord& rec) const;
    std::vector<ContainerRecord> list() const;
    // By full id, unique id prefix, or name.
    std::optional<ContainerRecord> find(const std::string& name_or_id) const;
    // Removes the record and its directory (bundle included).
    void remove(const std::string& id);

  private:
    std::string root_;
};

// A fresh random container id (64 hex digits) and a docker-style name ("brave_turing").
std::string new_container_id();
std::string random_name();

}  // namespace husk::engine
