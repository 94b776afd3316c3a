// /proc, /sys and sysinfo(2) that tell a container its own limits (--proc-virtualize,
// the annotation run.oci.husk.proc-virtualize=true), with no shared daemon:
//
//   files    regular files in the container's state directory (<state>/procvirt/),
//            bind-mounted read-only over /proc/meminfo, cpuinfo, stat, loadavg,
//            diskstats, swaps and /sys/devices/system/cpu/{online,possible}. A read of
//            a regular file cannot fail: whatever happens to the server, the container
//            reads the last values (unlike FUSE, which answers ENOTCONN once its daemon
//            is gone).
//   fresh    the container's own server holds a fanotify FAN_OPEN_PERM mark on each
//            file: an open waits until the server has rewritten that file from the
//            cgroup, so the reader sees the numbers of the moment it opened. Then the
//            file's mark is off for 5 ms: opens in that window read it as rendered (about
//            5 ms old at most; the window ends when the server next runs, later while it
//            waits for a CPU) without waiting, so a program polling a file pays the round
//            trip once per window. Idle, the server sleeps in poll: no timer (a window
//            ends in one poll timeout), no CPU. When its fanotify fd closes (the server
//            exits or is killed) the kernel allows every pending and later open.
//   rootless permission events need CAP_SYS_ADMIN on the host: a rootless server (the
//            runtime's --rootless, known up front) takes FAN_CLOSE_NOWRITE notifications
//            (FAN_CLASS_NOTIF | FAN_REPORT_FID, inode marks, which a user may have), and
//            re-renders a file once a reader has closed it, at most once per 5 ms
//            window (a close within 5 ms of the last render waits for the window's end:
//            a program polling a file costs one render per window). Nobody waits, and a
//            reader reads what the last read's close rendered (at create for the first):
//            numbers as old as the time since that file was last read in the container,
//            or about 5 ms when it is read more often (later while the server waits for
//            a CPU).
//            After the close, not the open: a render just after an open would rewrite
//            the file while its reader reads it (two readers at once still may meet a
//            render: a mixed read).
//   uptime   a time namespace whose boottime offset is minus the host's uptime at
//            create: /proc/uptime and sysinfo's uptime count from the container's start
//            with nobody serving them. Rootless the init makes it inside its user
//            namespace (timens.h): the runtime may not.
//   sysinfo  a seccomp filter of its own (only sysinfo and sched_getaffinity,
//   nproc    SECCOMP_RET_USER_NOTIF; every other syscall passes) whose listener the
//            server holds; it writes the container's numbers into the caller's struct,
//            and for sched_getaffinity the caller's real mask cut to ceil(quota/period)
//            CPUs (nproc, glibc, Python, Java and Go count that mask, which a CFS quota
//            does not narrow; the real affinity is never changed). If the server and its
//            standby (below) are both gone the kernel answers ENOSYS to both calls: see
//            README "Not there yet". Rootless the filter is installed inside the user
//            namespace and the server runs as the user, who owns that namespace: it may
//            open the caller's /proc/PID/mem (ptrace access: the owner holds
//            CAP_SYS_PTRACE over the namespace) to write the struct and the mask.
//   exec     an exec'd process (husk exec, husk-runtime exec) installs the same filter
//            before its execve; the runtime hands its listener to the server through
//            <dir>/notify.sock (a datagram with SCM_RIGHTS and a tag naming it); the
//            server passes a copy to its standby before it takes the datagram off the
//            socket (a server killed in between leaves it queued for the standby, which
//            knows it by its tag), and polls all of its listeners, dropping each once no
//            task carries its filter.
//   failure  beside the server start_server forks a standby; it keeps a copy of every
//            listener (the server passes each on), sleeps on the server's pidfd and, if
//            the server dies, takes over (a new fanotify group, the same seccomp
//            listeners and inbox) and starts a standby of its own; a server whose
//            standby died starts another. Each container has its own pair: nothing is
//            shared.
//
// The server is a process of its own per container (forked by create, reparented to
// the caller's subreaper: the monitor for detached containers, `husk run` in the
// foreground, conmon or the shim under engines) because husk-runtime exits after
// create, and it exits when the container's init does.
#pragma once

#include <sys/types.h>

#include <string>

#include "oci/spec.h"
#include "runtime/cgroup/manager.h"
#include "sys/fd.h"

namespace husk::runtime {
struct Plan;
}

namespace husk::runtime::procvirt {

inline constexpr const char* kAnnotation = "run.oci.husk.proc-virtualize";

// The bundle asks for it (annotation value "true").
bool requested(const oci::Spec& spec);

// Parent side, before the plan: render the files into `dir` (created), add their
// read-only bind mounts to `spec`, and (unless the spec has a time namespace of its
// own) a new time namespace with the boottime offset. `start_boottime` receives the
// host's CLOCK_BOOTTIME seconds the container's uptime counts from.
void prepare(oci::Spec& spec, const std::string& dir, const cgroup::Manager& cg,
             long& start_boottime);

// The sysinfo filter can be added: an architecture it knows, and no notify listener of
// the bundle's own (the kernel allows one listener per process).
bool sysinfo_filter_possible(const oci::Spec& spec);

// Parent side, once the init is ready: start the server (and its standby) for the
// container whose init is `init`, serving the files in `dir` and sysinfo(2) through
// `listener` (may be empty). Returns the server's pid, also written to dir/server.pid
// (the standby's to dir/standby.pid) before it returns: the two processes write nothing
// else into `dir` but a takeover's server.pid. `rootless` (the runtime's --rootless: not
// root on the host, or root in a user namespace) chooses FAN_CLOSE_NOWRITE notifications
// up front: permission events take CAP_SYS_ADMIN on the host.
pid_t start_server(const std::string& dir, const cgroup::Manager& cg, pid_t init,
                   long start_boottime, sys::UniqueFd listener, bool rootless);

// Exec side, before the process is made: a socket to the server of the container whose
// procvirt directory is `dir`; it takes the exec'd process's listener. Empty when the
// container has no server (none made, or nobody serves it any more): the process then
// goes without the filter (the host's sysinfo and affinity, but no ENOSYS).
sys::UniqueFd connect_server(const std::string& dir);
// Hand the exec'd process's `listener` to the server over `sock` (from connect_server).
// False when the server is gone since: the process's sysinfo(2) then fails with ENOSYS.
bool pass_listener(int sock, int listener) noexcept;

// Child side (init and exec): install the notify filter (sysinfo, sched_getaffinity) and
// send its listener fd to the parent (SyncType::procvirt_fd). Before the container's own
// seccomp filter.
void install_sysinfo_filter(const Plan& p) noexcept;

}  // namespace husk::runtime::procvirt
