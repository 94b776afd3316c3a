// The container's cgroup: created, joined, frozen, killed and removed through
// one interface whatever the host mixes (cgroup v1, v2, or both: hybrid hosts
// are decided controller by controller).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oci/spec.h"
#include "runtime/cgroup/layout.h"
#include "runtime/cgroup/stats.h"
#include "sys/fd.h"

namespace husk::runtime::cgroup {

class Manager {
    struct Private {};

  public:
    // Create the container's cgroup for `cgroups_path` (linux.cgroupsPath; see
    // parse_cgroups_path) in every mounted v1 hierarchy and in cgroup2, and apply
    // `res` (may be null). An empty cgroup of the same path left by a crashed runtime
    // is reused; a cgroup with processes in it is an error. On failure nothing is
    // left behind.
    static std::unique_ptr<Manager> create(const std::string& cgroups_path, const std::string& id,
                                           const oci::Resources* res);
    // create() in two steps, for a caller that records where the cgroup will be (save())
    // before any of it exists, so that a crash in between leaves nothing unrecorded:
    // plan() decides the directories and makes nothing; make() is the rest of create().
    // `rootless`: only the hierarchies whose container directory we may make (the nearest
    // existing ancestor is writable: a delegated subtree) are used, possibly none; device
    // rules are not ours to enforce there (a user namespace cannot mknod anyway), and a
    // limit no kept hierarchy can hold is refused, naming the controller and why. An
    // absolute cgroups path we may not make goes below the delegated cgroup2 subtree this
    // process runs in (the topmost of its cgroup and ancestors delegated to the user), so
    // "/husk/c1" becomes ".../user@1000.service/husk/c1"; processes in a delegated cgroup
    // that must give controllers to its children are moved to its child "leaf" first
    // (cgroup v2 has no processes in inner cgroups with controllers).
    static std::unique_ptr<Manager> plan(const std::string& cgroups_path, const std::string& id,
                                         const oci::Resources* res, bool rootless = false);
    void make(const oci::Resources* res);
    // Re-open a cgroup from what save() returned.
    static std::unique_ptr<Manager> load(const std::string& saved);
    // A small JSON object for the container's state file.
    std::string save() const;

    // fd of the cgroup2 directory for clone3 CLONE_INTO_CGROUP, or -1 when the
    // container also has v1 hierarchies (then the parent calls add_pid).
    int clone_into_fd() const;
    // Put `pid` in the container's cgroup of every hierarchy.
    void add_pid(pid_t pid);
    // Every process of the container (cgroup.procs of the cgroup and its descendants).
    std::vector<pid_t> pids() const;

    void freeze();  // v1 freezer.state FROZEN or v2 cgroup.freeze 1; waits until frozen
    void thaw();
    bool frozen() const;
    // Send `sig` to every process: SIGKILL through cgroup.kill where the kernel has
    // it; otherwise freeze, signal every pid, thaw (so nothing forks meanwhile).
    // A container paused before stays paused unless `sig` is SIGKILL.
    void kill_all(int sig);
    // rmdir the cgroup everywhere (descendants first; retries briefly on EBUSY while
    // killed processes exit). Idempotent. Throws (EBUSY) naming every cgroup left.
    void destroy();

    // Apply new limits to the running container (husk-runtime update).
    void update(const oci::Resources& res);
    // Usage and limits for `events --stats`.
    Stats stats() const;
    // How many times the OOM killer killed a process of the container.
    uint64_t oom_kills() const;
    // An fd that polls readable (POLLIN) when the container's memory cgroup sees an OOM
    // (v1: an eventfd registered on memory.oom_control; v2: inotify on memory.events,
    // which also fires for other memory events: compare oom_kills() after each wake-up).
    // Drain it with read(). Empty when the container has no memory cgroup.
    sys::UniqueFd oom_notifier() const;

    // The cgroup directory that holds `controller` ("memory", "pids", ...; "" = the
    // cgroup2 directory), or "" when the container's cgroup has none.
    std::string dir_of(std::string_view controller) const;
    // Every directory of the container's cgroup (v1 hierarchies, then cgroup2).
    std::vector<std::string> dirs() const;
    // True when `controller` is handled by cgroup v2 for this container.
    bool is_v2(std::string_view controller) const;
    // The host's cgroup mounts plan() found (its v1 hierarchies, then cgroup2): the
    // container's cgroup mounts are made from them (runtime/cgroup_mounts.h). Empty for a
    // Manager that load() made: only plan() reads the host's mounts.
    const std::vector<CgroupMount>& host_mounts() const { return host_mounts_; }

    Manager(Private, std::vector<HierarchyDir> v1, std::optional<HierarchyDir> v2);

  private:
    void open_v2_fd();
    void apply(const oci::Resources& res, bool creating);
    const std::string* freezer_v1() const;
    bool wait_frozen_v2(bool want) const;

    std::vector<HierarchyDir> v1_;
    std::optional<HierarchyDir> v2_;
    sys::UniqueFd v2_fd_;
    // from plan(), for make(): a pure v2 host enables every controller it offers (rootless:
    // every controller the delegated subtree has), and a rootless runtime moves the processes
    // of a delegated cgroup that must give its children controllers to a leaf of it
    bool pure_v2_ = false;
    bool rootless_ = false;
    std::vector<std::string> v2_controllers_;
    std::vector<CgroupMount> host_mounts_;
};

}  // namespace husk::runtime::cgroup
