// `husk cp`: files between a container and the host, both ways, or a tar stream.
//
// Every container-side path is resolved inside the container's root with openat2
// RESOLVE_IN_ROOT (sys/safe_path.h), for reads and writes alike: a symlink in the
// container pointing at "/etc" means the container's /etc, never the host's. Below the
// top of a copied tree nothing is followed (each entry is opened O_NOFOLLOW relative to
// its directory's fd), and written entries replace, never follow, what is there.
// A running container is reached through /proc/PID/root (its volumes and tmpfs
// mounts included); a stopped one through its root filesystem.
//
// docker's rules for the destination (docker cp's documentation):
//   SRC is a file: DEST missing -> saved as DEST (its parent must exist; a DEST ending
//     in "/" must be an existing directory); DEST a file -> overwritten; DEST a
//     directory -> copied into it under SRC's name.
//   SRC is a directory: DEST missing -> made, with SRC's contents; DEST a file ->
//     error; DEST a directory -> SRC copied into it, or, when SRC ends in "/.", SRC's
//     contents copied into it.
// Modes and times are kept. Owners: the destination's user (the container's root,
// or the caller on the host) unless `archive` (-a) keeps the source's.
#pragma once

#include <optional>
#include <string>

#include "engine/run.h"

namespace husk::engine {

struct CopyOptions {
    bool archive = false;      // -a: keep the source's owners
    bool follow_link = false;  // -L: a symlink as SRC copies what it points at
};

// One side of `husk cp` as docker splits it: "CONTAINER:PATH" names a container
// (unless the argument is absolute or its part before ':' starts with '.'), "-" is a
// tar stream, anything else a host path.
struct CopyEndpoint {
    std::string container;  // "" for the host or the stream
    std::string path;
    bool stream() const { return container.empty() && path == "-"; }
};
CopyEndpoint parse_copy_endpoint(const std::string& arg);

// Where a copy lands by docker's rules: entries named `name` (then `name/...`) made in
// the directory `dir`. `name` is "." when a directory's contents go into `dir` itself.
struct CopyTarget {
    std::string dir;
    std::string name;
};
// `dst` as given (its trailing "/" matters), what is there (nullopt: nothing, true: a
// directory, false: something else), and what SRC is. Throws docker's errors.
CopyTarget copy_target(const std::string& src, bool src_is_dir, const std::string& dst,
                       std::optional<bool> dst_is_dir);

// Copies `src` to `dst` (each as parse_copy_endpoint reads it; exactly one side is a
// container). A "-" source reads a tar stream from `in_fd`; a "-" destination writes
// one to `out_fd`.
void copy(const EngineContext& ctx, const std::string& src, const std::string& dst,
          const CopyOptions& opts, int in_fd, int out_fd);

}  // namespace husk::engine
