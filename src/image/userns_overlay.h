// Rootless container roots: the kernel's overlayfs mounted inside a user namespace
// ("userxattr", Linux >= 5.11), which an ordinary user may do where it may not mount on
// the host. The container's init mounts its own root so (runtime: a mount on "/"); the
// engine, which must read and write that root before the container starts (the user's
// name, the working directory, a volume's first contents), gets the same overlay as a
// detached mount from a short-lived user namespace of its own.
#pragma once

#include <string>
#include <vector>

#include "sys/fd.h"

namespace husk::image {

// How the kernel takes an overlay's lower layers in a user namespace.
enum class UsernsOverlay : uint8_t {
    refused,       // not at all (or it shows whiteouts or opaque directories wrongly)
    lowerdir,      // "lowerdir=a:b" in one value (at most 255 bytes through fsconfig)
    lowerdir_add,  // "lowerdir+" one layer at a time (Linux >= 6.8)
    fuse           // refused, but fuse-overlayfs works: a FUSE mount it serves
};

struct OverlayDirs {
    std::vector<std::string> lowers;  // top first
    std::string upper, work;          // both empty: read-only
};

// fuse-overlayfs' -o options for `dirs` (lowerdir, upperdir, workdir; sys/fuse.h).
std::vector<std::string> fuse_overlay_options(const OverlayDirs& dirs);

// The overlay `dirs` mounted with userxattr in a new user namespace where this process's
// uid and gid are root, returned as a detached mount (usable by fd from here: openat,
// /proc/self/fd/N). Throws naming the step and the errno the kernel gave.
sys::UniqueFd userns_overlay_mount(const OverlayDirs& dirs, UsernsOverlay how);

// The same overlay mounted by this process, which must be root in a user namespace of its
// own (engine::in_container_userns's child): a mount namespace of its own is made for it
// (unshare), and what is written through it has that namespace's owners (a chown to one of
// the ids it maps works, as in the container).
sys::UniqueFd userns_overlay_mount_here(const OverlayDirs& dirs, UsernsOverlay how);

// What the kernel accepts, tried once in `scratch` (a directory on the filesystem of the
// layers, removed again): a lower layer with a whiteout (a 0:0 character device, which an
// ordinary user may make) and a user.overlay.opaque directory over a bottom layer, which
// must hide what they cover. `why` gets the kernel's answer when refused.
UsernsOverlay probe_userns_overlay(const std::string& scratch, std::string& why);
// The same check through fuse-overlayfs (where the kernel refused): fuse or refused, `why`
// saying why not (not installed, /dev/fuse, what it showed).
UsernsOverlay probe_fuse_overlay(const std::string& scratch, std::string& why);

}  // namespace husk::image
