// Everything the container's init does between clone and execve, prepared by
// the parent: strings built, options parsed, fds opened. The init only reads
// this (it never allocates or throws) and reports failures over the sync socket.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/hooks.h"
#include "runtime/mount_options.h"
#include "runtime/process_attrs.h"
#include "runtime/security/capabilities.h"
#include "runtime/security/seccomp.h"
#include "sys/fd.h"

namespace husk::runtime {

struct PlannedMount {
    // seal_readonly: make the mount already at `target` read-only (after its sub-mounts).
    enum class Kind : uint8_t { filesystem, bind, symlink, seal_readonly };
    Kind kind = Kind::filesystem;
    std::string source;  // host path for binds (absolute); fs source otherwise; link target
    std::string target;  // path inside the root
    std::string fstype;
    bool dir_target = true;  // create the target as a directory (else an empty file)
    int premade_fd = -1;     // an idmapped bind made by the parent (mounts.h), owned by the
                             // Plan: attach only
    MountOptions opts;
};

struct PlannedDevice {
    std::string path;  // inside the root, e.g. "/dev/null"
    mode_t mode = 0;   // S_IFCHR|S_IFBLK|S_IFIFO | permission bits
    dev_t dev = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    bool bind_from_host = false;  // inside a user namespace mknod fails: bind the host node
};

struct PlannedRlimit {
    int resource = 0;
    uint64_t soft = 0, hard = 0;
};

struct PlannedNamespaceJoin {
    int fd = -1;     // opened by the parent, owned by the Plan
    int nstype = 0;  // CLONE_NEW*
    std::string path;
};

struct Plan {
    // namespaces
    std::vector<PlannedNamespaceJoin> joins;  // setns, in order (mount last)
    bool new_user_ns = false;
    // Our id maps are written as an unprivileged user (by us or newuidmap): the init stays
    // dumpable until `go`, since a non-dumpable process's /proc/PID/uid_map belongs to
    // root (runc's nsexec does the same).
    bool dumpable_until_go = false;
    // Rootless with a new network namespace: dumpable until execve, so that the user's
    // user-mode network (pasta, network/pasta.h) may open /proc/PID/ns/{user,net} between
    // create and start. Only the user's own processes could use it, who own the
    // namespaces anyway; execve ends it as for everyone.
    bool dumpable_until_exec = false;
    // Rootless with a new network namespace (its user namespace new or joined): the init
    // brings its loopback up itself (the user cannot setns into it from the host, where it
    // holds no CAP_SYS_ADMIN).
    bool loopback_up = false;
    // A user namespace joined by path: the parent's helper process enters it and clones the
    // init from there (container/create.cpp), so every new namespace is owned by it.
    int user_join_fd = -1;
    std::string user_join_path;
    // A PID namespace joined by path: the parent's children are born in it (setns of a PID
    // namespace applies to children only), so the init is cloned inside.
    int pid_join_fd = -1;
    std::string pid_join_path;
    bool in_user_ns() const { return new_user_ns || user_join_fd >= 0; }
    bool new_mount_ns = false;
    bool unshare_cgroup_after_join = false;  // cgroup v1: unshare only once in our cgroup
    // Parent side: a new time namespace is made by unshare before the clone (timens.h).
    bool new_time_ns = false;
    // ... or, rootless (the parent holds no CAP_SYS_ADMIN for it), by the init in its user
    // namespace (timens.h).
    bool time_ns_in_init = false;
    std::string time_offsets;  // /proc/self/timens_offsets text
    // A session keyring of the container's own ("_ses.<id>", as runc names it) so it
    // does not share the caller's keys; empty with --no-new-keyring.
    std::string session_keyring;

    // root filesystem
    std::string rootfs;                  // absolute host path
    unsigned long root_propagation = 0;  // MS_* | MS_REC for "/" inside (0 = rslave default)
    bool root_readonly = false;
    bool no_pivot = false;
    // A filesystem mounted as the root itself (a mount whose destination is "/": a rootless
    // container's overlayfs, which only its own user namespace may mount), in place of
    // root.path bound onto itself; the other mounts go on top of it.
    bool has_root_mount = false;
    PlannedMount root_mount;
    // That filesystem is fuse-overlayfs (where the kernel refuses overlayfs in a user
    // namespace): the init mounts FUSE and sends the connection to the parent, which starts
    // fuse-overlayfs on it with these -o options in the init's user namespace. The server
    // is no process of the container's, and ends when the container's mounts are gone.
    bool root_fuse = false;
    std::vector<std::string> root_fuse_options;
    std::vector<PlannedMount> mounts;
    std::vector<PlannedDevice> devices;
    bool default_dev_symlinks = false;  // /dev/fd, /dev/std*, /dev/ptmx, /dev/core
    std::vector<std::string> masked_paths;
    std::vector<std::string> readonly_paths;

    // identity of the container
    std::string hostname;
    bool set_hostname = false;
    std::string domainname;
    bool set_domainname = false;
    std::vector<std::pair<std::string, std::string>> sysctls;  // "/proc/sys/net/..." → value

    // process
    std::vector<PlannedRlimit> rlimits;
    bool set_oom_score_adj = false;
    std::string oom_score_adj;  // decimal text
    bool set_personality = false;
    unsigned long personality = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> additional_gids;
    bool set_groups = true;  // false in a user namespace whose setgroups is denied
    mode_t umask = 022;
    std::string cwd = "/";
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string path_env;  // value of PATH for the executable lookup
    bool no_new_privileges = false;
    int preserve_fds = 0;
    bool set_caps = false;  // process.capabilities present (else the sets are left as they are)
    security::CapSets caps;
    ProcessAttrs attrs;  // scheduler, I/O priority, memory policy, exec CPU affinity
    bool has_seccomp = false;
    security::SeccompProgram seccomp;
    bool sysinfo_notify = false;  // --proc-virtualize: sysinfo(2) to our listener (procvirt.h)

    // argv/envp as C arrays (pointing into args/env), built by finalize().
    std::vector<char*> argv, envp;
    void finalize();

    // terminal: a pty made inside the container, its master sent over console_fd
    bool terminal = false;
    bool mount_console = false;  // bind the pty on /dev/console (the init, not exec)
    int console_fd = -1;         // connected console socket
    unsigned console_rows = 0, console_cols = 0;

    // hooks: the parent runs prestart/createRuntime when asked (before pivot_root);
    // the init runs createContainer (before pivot_root) and startContainer (before
    // execve). Their state JSON is prefix + host pid (sent with `go`) + suffix.
    bool ask_runtime_hooks = false;
    std::vector<PlannedHook> create_container_hooks, start_container_hooks;
    std::string hook_state_prefix, hook_state_suffix;  // status "creating"
    std::string start_state_prefix;                    // status "created" (startContainer)

    // The signals not at SIG_DFL in the parent when it cloned us (bit s-1: signal s): the
    // ones to reset before execve (ignored ones would stay ignored through it). All when
    // the parent did not look.
    uint64_t signals_to_reset = ~uint64_t{0};

    // sync with the parent, and the fifo `start` writes to
    int sync_fd = -1;
    int exec_fifo_fd = -1;

    // The fds the parent opened for the plan (namespaces to join, idmapped mounts) are
    // owned here, so they close when planning or create fails part-way; the fields above
    // hold their numbers, which is all the child reads. own() returns the number.
    int own(sys::UniqueFd fd) {
        int n = fd.get();
        owned_fds.push_back(std::move(fd));
        return n;
    }
    // The parent, once the init is cloned (it has its own copies): close them all.
    void close_owned_fds() noexcept { owned_fds.clear(); }

  private:
    std::vector<sys::UniqueFd> owned_fds;
};

}  // namespace husk::runtime
