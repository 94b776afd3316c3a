// Keeping /proc honest (CVE-2019-16884 and CVE-2025-52881 classes): a container must
// not get its config's mounts over procfs to fake or redirect the files the runtime
// writes (sysctls, oom_score_adj), and those writes must land in the container's own
// procfs and nowhere else. Async-signal-safe: both run in the init (0 or -errno).
#pragma once

#include "runtime/plan.h"

namespace husk::runtime {

// May `m` be attached on `target_fd` (resolved inside the root `rootfd`; `mnt_fd` is
// the detached mount)? Onto the container's /proc directory only a proc filesystem
// (or a bind of one); onto anything inside a procfs only a new proc instance or a bind
// at one of the files lxcfs emulates (runc's allow-list). -EPERM otherwise.
int check_proc_target(const PlannedMount& m, int rootfd, int target_fd, int mnt_fd) noexcept;

// Open `path` (absolute, starting with "/proc/") of the container's procfs: /proc must be
// the root of a procfs, and the rest is resolved below it without crossing any mount
// (RESOLVE_NO_XDEV) or symlink out of it. Returns the fd or -errno (-EXDEV for a mount
// on the way, -EPERM when /proc is not a procfs root).
int open_procfs_file(int rootfd, const char* path, int flags) noexcept;

}  // namespace husk::runtime
