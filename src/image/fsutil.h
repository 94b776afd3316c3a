// Small file-system helpers of the image store: atomic writes, locks, trees.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sys/fd.h"

namespace husk::image {

// Writes `data` to a temporary file next to `path`, fsyncs it and renames it over `path`.
// `sync` = false skips the fsync (files that are recomputed or die with a container).
void write_file_atomic(const std::string& path, std::string_view data, unsigned mode = 0644,
                       bool sync = true);
// Writes `data` to an existing file in one write (/proc files).
void write_file_plain(const std::string& path, std::string_view data);
// The whole file; throws SysError (ENOENT included).
std::string read_file(const std::string& path);
std::optional<std::string> read_file_if_exists(const std::string& path);
void mkdir_p(const std::string& path, unsigned mode = 0755);
// Removes `path` and everything below it without following symlinks and without
// crossing into another mount (that is an error); absent is fine.
void remove_tree(const std::string& path);
// Removes the entry `name` of `dirfd` (recursively when it is a directory).
void remove_tree_at(int dirfd, const char* name);
void fsync_path(const std::string& path);
bool exists(const std::string& path);
// A fresh unique name: "<prefix><random hex>".
std::string unique_name(std::string_view prefix);

// flock(2) on a lock file, released on destruction.
class FileLock {
  public:
    enum Mode { shared, exclusive };
    FileLock(const std::string& path, Mode mode);
    // The lock when it is free now, else nothing.
    static std::optional<FileLock> try_lock(const std::string& path, Mode mode);
    FileLock(FileLock&&) = default;
    FileLock& operator=(FileLock&&) = default;

  private:
    explicit FileLock(sys::UniqueFd fd) : fd_(std::move(fd)) {}
    sys::UniqueFd fd_;
};

}  // namespace husk::image
