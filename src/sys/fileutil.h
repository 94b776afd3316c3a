// Whole-file helpers for the parent side (they allocate and throw).
#pragma once

#include <string>
#include <vector>

namespace husk::sys {

// Read a whole file. Throws SysError("open"/"read", path).
std::string read_file(const std::string& path);
// Write `data` to `path` (O_TRUNC|O_CREAT). Throws SysError("write", path).
void write_file(const std::string& path, const std::string& data, int mode = 0644);
// Write to "<path>.tmp.<pid>", fsync if asked, then rename over `path`.
void write_file_atomic(const std::string& path, const std::string& data, int mode = 0644,
                       bool sync = false);
// mkdir -p; returns true when the last component was created by this call.
bool mkdir_all(const std::string& path, int mode = 0755);
// rm -rf of `path`, not crossing mount points; missing path is not an error.
void remove_all(const std::string& path);
bool exists(const std::string& path);
// The names in a directory (not . and ..), sorted; empty when it does not exist.
// Throws SysError("open directory", path) on any other failure.
std::vector<std::string> list_dir(const std::string& path);
// Our stdin becomes /dev/null (a container or process that gets no input).
void stdin_from_dev_null();

}  // namespace husk::sys
