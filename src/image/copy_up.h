// A user's copy-up (rootless, issue 17): a hardlink of a layer to a file only a lower
// layer has is made to a copy of that file in the layer (image/unpack.h). As root the copy
// takes the lower file's owner; a user cannot give it one, and the lower layers of a user
// with a /etc/subuid range hold files of the range's ids (image/owner_shift.h), which the
// user may neither chown to nor, when they are private (0600, in a 0700 directory), read.
// So a user's copies are the user's and keep their owner in a record (kOverrideStatXattr),
// as every file the unpacker makes as a user; made from a child in a user namespace with
// the user's maps where the user has a range (there the range's files are readable and
// stat gives their ids in the container), and the store's owner shift applies the records.
// System calls only, no allocation, no throw: the child of a threaded pull runs it.
#pragma once

#include <cstddef>

#include "image/owner_shift.h"
#include "sys/raw_tree.h"

namespace husk::image {

// Copies the non-directory at `path` (relative, clean: no "." or "..", no empty component)
// into the layer `top` from the layer of `lowers` (`n` roots, top first) that shows it as
// overlayfs merges `top` over them, and each directory on its way that `top` lacks from the
// layer that shows that one (without the directory's other entries). Each copy has the
// lower one's mode, times and xattrs (not overlayfs' own), its owner is the caller's, and
// its owner in the container is kept in a record: the lower one's record, or its owner as
// this process sees it (its own ids are the container's root: no record), or, given `host`
// (a process outside the namespace, which sees the host's ids: the range's files of the
// lower layers), that owner through `host`'s maps. False, `e` filled, on a failure; ENOENT
// when no lower layer shows `path`, EISDIR when it is a directory.
bool copy_up_raw(int top, const int* lowers, size_t n, const char* path, const UserRanges* host,
                 sys::RawError& e) noexcept;

}  // namespace husk::image
