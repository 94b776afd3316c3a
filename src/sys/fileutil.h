// File helpers for the parent side (they allocate and throw): whole files, atomic
// writes, trees, the one directory lister, lock files.
#pragma once

#include <fcntl.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sys/fd.h"

namespace husk::sys {

// Read a whole file. Throws SysError("open"/"read", path), ENOENT included.
std::string read_file(const std::string& path);
// The whole file, or nothing when it does not exist.
std::optional<std::string> read_file_if_exists(const std::string& path);
// Everything `fd` gives until EOF (EINTR retried). Throws SysError("read", path).
std::string read_to_end(int fd, const std::string& path);
// Write `data` to `path` (O_TRUNC|O_CREAT). Throws SysError("write", path).
void write_file(const std::string& path, const std::string& data, int mode = 0644);
// Writes `data` to a fresh file next to `path`, gives it exactly `mode`, fsyncs it when
// `sync` and renames it over `path`. The file has no name until it is whole (O_TMPFILE,
// then linked under a unique temporary name), so a writer killed meanwhile leaves
// nothing; where O_TMPFILE or /proc is missing, a unique named temporary file.
// `sync` = false for files that are recomputed or die with a container.
void write_file_atomic(const std::string& path, std::string_view data, int mode = 0644,
                       bool sync = false);
// write_file_atomic without sync for a file whose content matters only while the machine
// runs (a runtime's state.json): the new file takes the old one's name by an exchange
// (renameat2 RENAME_EXCHANGE) and the old is unlinked, so ext4 does not write the data
// out at the rename (auto_da_alloc: ~0.5 ms wall per save on the project's machine, where
// a short-lived container's file is never written at all). After a power loss the file
// may be empty. Readers see the old or the new content at every moment, as with rename.
void replace_file_unflushed(const std::string& path, std::string_view data, int mode = 0644);
// mkdir -p; returns true when the last component was created by this call.
bool mkdir_all(const std::string& path, int mode = 0755);
// rm -rf of `path` without following symlinks and without crossing into another mount,
// the top included (that is an error, found by mount id: a bind mount of the same
// filesystem counts); missing is fine; "" and "/" are refused.
void remove_all(const std::string& path);
// The same for the entry `name` of `dirfd` (recursively when it is a directory).
void remove_all_at(int dirfd, const char* name);
void fsync_path(const std::string& path);
// Where the executable `name` is on $PATH (/usr/local/bin:/usr/bin:/bin when unset or
// empty), as execvp looks; "" when nowhere.
std::string find_on_path(const std::string& name);
// Whether `path` names something, following a final symlink (a dangling link: false).
bool exists_follow(const std::string& path);
// Whether `path` names something, the final symlink itself counting (lstat).
bool exists_nofollow(const std::string& path);
// A fresh unique name: "<prefix><random hex>".
std::string unique_name(std::string_view prefix);

// One entry of a directory: its name and the type readdir(3) gives (DT_DIR, DT_REG,
// DT_LNK, ...; DT_UNKNOWN where the filesystem does not fill it in: stat to know).
struct DirEntry {
    std::string name;
    unsigned char type;
};
// The one directory lister: the entries of `path` (not . and ..), sorted by name. With
// `dirfd`, `path` is relative to it ("." lists dirfd itself, which stays the caller's).
// A directory that does not exist lists as empty; any other failure throws
// SysError("open directory", path).
std::vector<DirEntry> list_dir_entries(const std::string& path, int dirfd = AT_FDCWD);
// The names only.
std::vector<std::string> list_dir(const std::string& path, int dirfd = AT_FDCWD);

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
    explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

// Our stdin becomes /dev/null (a container or process that gets no input).
void stdin_from_dev_null();

}  // namespace husk::sys
