// The merged view of an image's layers, as overlayfs would show it: one entry per
// path (relative, "usr/bin/bash") with the topmost layer that provides it. Files are
// read from that layer's directory with openat2 beneath it, never following a
// symlink of the image; the image's symlinks are resolved here, in the merged view.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "inventory/inventory.h"
#include "sys/fd.h"

namespace husk::inventory {

struct Entry {
    int layer = 0;
    mode_t mode = 0;
    std::string link;  // a symlink's target
};

class Tree {
  public:
    explicit Tree(const std::vector<LayerRef>& layers);

    const std::vector<LayerRef>& layers() const { return layers_; }
    const std::unordered_map<std::string, Entry>& entries() const { return entries_; }
    const Entry* find(std::string_view path) const;

    // `path` with every symlink of the merged tree resolved (the last component too
    // when `follow_last`); nullopt when a component is missing or links loop.
    std::optional<std::string> resolve(std::string_view path, bool follow_last = true) const;
    // The contents of a regular file of the merged tree (symlinks followed);
    // nullopt when there is none. Throws when it exists but cannot be read.
    std::optional<std::string> read(std::string_view path) const;
    // The copy of `path` (a regular file, no symlink on the way) that layer `layer`
    // itself holds, nullopt when it holds none. Throws when it cannot be read.
    std::optional<std::string> read_in_layer(int layer, std::string_view path) const;
    // Whether layer `layer` deletes `path` (a whiteout of it or of a parent).
    bool removed_in_layer(int layer, std::string_view path) const;
    // A file of layer `layer` opened for reading (no symlink followed on the way).
    sys::UniqueFd open_in_layer(int layer, std::string_view path) const;

  private:
    void walk(int layer, int dirfd, const std::string& prefix);

    std::vector<LayerRef> layers_;
    std::vector<sys::UniqueFd> fds_;
    std::unordered_map<std::string, Entry> entries_;
    std::unordered_map<std::string, int> gone_;    // whiteouts: path -> layer
    std::unordered_map<std::string, int> opaque_;  // opaque directories: path -> layer
};

// Splits "a/b/c" at the last slash: {"a/b", "c"}; {"", "c"} for "c".
std::pair<std::string_view, std::string_view> split_last(std::string_view path);
// The whole contents of an open file; throws naming `what`.
std::string read_fd(int fd, std::string_view what);

}  // namespace husk::inventory
