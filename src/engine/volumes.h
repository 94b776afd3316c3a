// Volumes as docker has them: named ones (`-v NAME:/path`, `husk volume create`) that
// outlive containers, and anonymous ones (`-v /path`, an image's Volumes) that go with
// their container's `rm -v` or `--rm`. Each is a directory <data root>/volumes/NAME/_data
// bound into the container, with volume.json beside it. An empty volume mounted where
// the image has files gets a copy of them first (docker's copy-up).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/options.h"
#include "engine/record.h"

namespace husk::engine {

struct Volume {
    std::string name;
    std::string created;  // RFC 3339
    bool anonymous = false;
    std::map<std::string, std::string> labels;
    std::string mountpoint;  // the _data directory
};

class VolumeStore {
  public:
    explicit VolumeStore(const std::string& data_root);
    std::string data_dir(const std::string& name) const;
    // Makes the volume unless it exists; true when it was made now. Throws on a bad name.
    bool create(const std::string& name, bool anonymous,
                const std::map<std::string, std::string>& labels = {});
    std::optional<Volume> find(const std::string& name) const;
    std::vector<Volume> list() const;
    // Removes it with its data; throws "volume is in use - [ids]" when a container
    // (of `db`) names it.
    void remove(const std::string& name, const Containers& db);
    // Ids of the containers naming the volume.
    std::vector<std::string> users(const std::string& name, const Containers& db) const;
    // Removes it, used or not (a container's own anonymous volumes as it goes).
    void destroy(const std::string& name);

  private:
    std::string data_root_;  // for the events journal
    std::string root_;
};

// docker's rule for local volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+
bool valid_volume_name(const std::string& name);

// Turns the mounts of type "volume" in o.mounts, and an anonymous volume for every
// directory of `image_volumes` that no mount covers, into bind mounts of volume
// directories: a missing named volume is made, every anonymous one is new; a volume made
// now gets a copy of what the image has at its path (in the root `rootfs()` names, asked
// only then), else, with a user
// namespace (rec.id_shift()), is owned by the container's root. rec.volumes names
// them all; `made` gets the volumes made now (for the caller to remove if the container
// is not made after all), also before a failure.
struct MadeVolumes {
    std::vector<std::string> named, anonymous;
};
void attach_volumes(const std::string& data_root, RunOptions& o, ContainerRecord& rec,
                    const std::vector<std::string>& image_volumes,
                    const std::function<std::string()>& rootfs, MadeVolumes& made);

// The anonymous volumes of a container that goes (rm -v, --rm).
void remove_anonymous_volumes(const std::string& data_root, const ContainerRecord& rec);

// Copies the tree at `path` inside `rootfs` (resolved in the root: no symlink of the
// image leads outside it) into the directory `to`: files, directories, symlinks and
// device nodes with owners, modes and times. Nothing when `path` is not a directory.
void copy_up(const std::string& rootfs, const std::string& path, const std::string& to);

}  // namespace husk::engine
