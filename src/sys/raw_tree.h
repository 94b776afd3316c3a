// Walking and removing a directory tree between fork and _exit: system calls only, no
// allocation, no throw (the child of a threaded process may not allocate). For what must
// be done from a user namespace the parent cannot enter itself: files of a user's
// /etc/subuid range, which the user may neither chown nor remove.
#pragma once

#include <array>
#include <cstddef>

namespace husk::sys {

// The first failure of a raw walk: the step, the path below the walk's root, errno.
struct RawError {
    int err = 0;
    std::array<char, 48> step{};
    std::array<char, 4096> path{};  // whole (a walk's paths fit in 4096 bytes)
    // Records the failure (the first one only); returns false, for `return e.fail(...)`.
    bool fail(const char* what, const char* where, int errnum) noexcept;
};

// Called for each entry below the walk's root, parents before their entries: `parent` is
// the open directory holding `name`, `type` a DT_* constant (never DT_UNKNOWN), `path` the
// entry's path below the root. False stops the walk (the visitor filled the error).
using RawVisit = bool (*)(void* ctx, int parent, const char* name, unsigned char type,
                          const char* path, RawError& e);

// Visits the tree below the directory `dirfd`, following no symlink. False on the first
// failure (a directory that cannot be read, a tree deeper than 256 levels: ELOOP).
bool walk_tree_raw(int dirfd, RawVisit visit, void* ctx, RawError& e) noexcept;

// Removes `name` in the directory `parent` with everything below it (nothing when it is
// absent). False on the first failure.
bool remove_tree_raw(int parent, const char* name, RawError& e) noexcept;

}  // namespace husk::sys
