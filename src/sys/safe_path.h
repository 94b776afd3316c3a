// The one place where paths inside a container's root filesystem are resolved.
//
// Every path is resolved relative to an fd of the root with openat2
// RESOLVE_IN_ROOT: "..", absolute symlinks and magic links can never lead out
// of the root, and nothing is done by string path that a container could swap
// under us. Directories and files are created one component at a time relative
// to the fd of their (already resolved) parent.
//
// These functions are async-signal-safe (no allocation, no exceptions): they
// run in the container's init between clone and execve. They return an fd
// (>= 0) or -errno.
#pragma once

#include <sys/types.h>

namespace husk::sys {

// openat2(root, path, flags | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | extra).
int open_in_root(int rootfd, const char* path, int flags, unsigned long long extra_resolve = 0,
                 mode_t mode = 0) noexcept;

// Make every missing directory of `path` inside the root; returns an O_PATH fd of the last one.
int mkdir_all_in_root(int rootfd, const char* path, mode_t mode) noexcept;

// Ensure `path` exists inside the root as a directory (dir=true) or as a regular file
// (created empty if missing, parents made); returns an O_PATH fd of it.
int ensure_in_root(int rootfd, const char* path, bool dir, mode_t mode) noexcept;

// Split "a/b/c" into the parent's fd (resolved in root, parents created) and the last
// component name, copied into `name` (size `name_len`). Returns the parent fd or -errno.
int parent_in_root(int rootfd, const char* path, char* name, size_t name_len, bool create_parents,
                   mode_t mode) noexcept;

// "/proc/self/fd/N" for fd into buf (at least 32 bytes); returns buf.
const char* fd_path(int fd, char* buf) noexcept;

}  // namespace husk::sys
