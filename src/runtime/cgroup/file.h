// Reading and writing cgroup files. Every failure names the file and, for
// writes, the value: write "max" to "/sys/fs/cgroup/pids/husk/c1/pids.max": EINVAL
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sys/fd.h"

namespace husk::runtime::cgroup {

// Write `value` to `dir`/`name` in one write(2).
void write_file(const std::string& dir, std::string_view name, std::string_view value);

// `dir`/`name` opened at the first write and kept open for the next: each value is one
// write(2), as write_file's, without an open and a close per value (v1's devices rules).
class WriteFile {
  public:
    WriteFile(const std::string& dir, std::string_view name);
    void write(std::string_view value);

  private:
    std::string path_;
    sys::UniqueFd fd_;
};
// The content of `dir`/`name` without the trailing newline; throws on failure.
std::string read_file(const std::string& dir, std::string_view name);
// Same, but returns false instead of throwing (missing file, missing cgroup).
bool try_read_file(const std::string& path, std::string& out);
bool file_exists(const std::string& dir, std::string_view name);

// The pids listed in `dir`/cgroup.procs; with `recursive`, those of every
// descendant cgroup too. A vanished cgroup yields nothing.
std::vector<pid_t> read_procs(const std::string& dir, bool recursive);

// mkdir -p; returns the directories it created, outermost first.
std::vector<std::string> make_dirs(const std::string& path);
// Remove the cgroup `dir` and its descendants (deepest first), retrying on
// EBUSY while the last processes exit. A missing cgroup is not an error.
void remove_cgroup(const std::string& dir);

// "key value" lines of `dir`/`name` as a map (memory.stat); empty when missing.
std::map<std::string, uint64_t> read_flat(const std::string& dir, std::string_view name);
// Space/newline separated words ("cpu io memory").
std::vector<std::string> split_words(std::string_view text);
// Whether `words` (split_words' result: controller lists) holds `word`.
bool has(const std::vector<std::string>& words, std::string_view word);
// The cgroup directory above `dir` (its path without the last component).
std::string parent_of(const std::string& dir);

// "key value" lines (memory.stat, cgroup.events, ...): the value of `key`, or -1.
int64_t flat_key(std::string_view text, std::string_view key);

}  // namespace husk::runtime::cgroup
