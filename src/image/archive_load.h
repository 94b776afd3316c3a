// Internal to `husk load`: what reading an archive leaves behind, and the undo log
// that keeps the store as it was when a load fails.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "image/store.h"

namespace husk::image {

// Files of the archive outside blobs/sha256/, copied to a staging directory while the
// tar streams past (manifest.json comes last in docker's archives). Keys are cleaned
// archive paths.
struct ArchiveFiles {
    struct File {
        std::string path;    // staged copy
        std::string digest;  // sha256 of the content
        int64_t size = 0;
    };
    std::map<std::string, File> files;
    std::map<std::string, std::string> symlinks;  // name -> target, as in the tar

    // The file `name` names, following the archive's own symlinks (docker save links
    // a repeated layer to its first copy); nullptr when absent.
    const File* find(const std::string& name) const;
};

// Blobs and snapshots a load added, removed again unless commit() was called.
class LoadUndo {
  public:
    explicit LoadUndo(Store& store) : store_(store) {}
    ~LoadUndo();
    LoadUndo(const LoadUndo&) = delete;
    LoadUndo& operator=(const LoadUndo&) = delete;

    // Store::commit_blob, remembering the blob when it is new.
    void commit_blob(const std::string& tmp_path, const std::string& digest);
    void write_blob(const std::string& data);
    // Store::ensure_snapshots, remembering the snapshots it creates.
    void ensure_snapshots(const Image& img);
    void commit() { done_ = true; }

  private:
    Store& store_;
    std::vector<std::string> blobs_;
    std::vector<std::string> snapshots_;
    bool done_ = false;
};

// A docker-archive (`docker save`: manifest.json, <id>.json configs, layer tars,
// maybe a `repositories` file): stores each image as an OCI manifest over the
// archive's config and layers. Names come from RepoTags, or `tag`.
std::vector<ImageRecord> load_docker_archive(Store& store, const ArchiveFiles& files,
                                             LoadUndo& undo, const std::optional<std::string>& tag);

}  // namespace husk::image
