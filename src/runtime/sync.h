// The fixed-size records the parent and the container's init exchange over a
// SOCK_SEQPACKET socketpair. A failure in the init is one record {step, errno,
// path} that the parent turns into one error line; EOF means the other side died.
#pragma once

#include <climits>
#include <cstdint>
#include <string>

#include "sys/error.h"
#include "sys/spawn.h"

namespace husk::runtime {

enum class SyncType : uint32_t {
    go = 1,           // parent → init: cgroup joined, id maps written; continue
    ready = 2,        // init → parent: all set up, waiting for `start`
    error = 3,        // init → parent: a step failed
    hooks_ask = 4,    // init → parent: at the createRuntime point (before pivot_root)
    hooks_done = 5,   // parent → init
    seccomp_fd = 6,   // init → parent: the notify listener fd follows (SCM_RIGHTS)
    procvirt_fd = 7,  // init → parent: the sysinfo listener fd follows (procvirt.h)
    fuse_fd = 8,      // init → parent: the root's /dev/fuse fd follows; the parent starts
                      // its server (fuse-overlayfs, Plan::root_fuse)
};

struct SyncMsg {
    SyncType type = SyncType::go;
    int32_t err = 0;
    sys::SpawnResult hook{};  // how a hook ended (step "hook <phase>")
    char step[96] = {};
    char path[PATH_MAX] = {};
};

// Send one record; async-signal-safe. Returns 0 or -errno.
int sync_send(int fd, SyncType type, int err = 0, const char* step = nullptr,
              const char* path = nullptr) noexcept;
// A hook of `phase` at `path` failed (in the init); async-signal-safe. Returns 0 or -errno.
int sync_send_hook_failure(int fd, const char* phase, const char* path,
                           sys::SpawnResult how) noexcept;
// Receive one record; returns 1 on a record, 0 on EOF, -errno on error.
int sync_recv(int fd, SyncMsg& msg) noexcept;

// "mount proc on \"/x/rootfs/proc\": EPERM (Operation not permitted)"
std::string describe(const SyncMsg& msg);

// The error an init's failure record stands for: describe(msg), its errno, and the
// kind callers decide on (the program not found or not executable: exec_not_found,
// exec_denied).
Error sync_error(const SyncMsg& msg);

}  // namespace husk::runtime
