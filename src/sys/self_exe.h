// Keeping the runtime's own binary out of the container's reach (CVE-2019-5736 class).
//
// husk-runtime never re-executes itself to start a container, but the init is a clone
// of it: until the init's execve, /proc/PID/exe is the host's husk-runtime binary, and
// a container entrypoint "#!/proc/self/exe" makes the kernel run that very binary as
// the container process (with the container's LD_PRELOAD...). The container could then
// hold it as an fd and reopen it for writing once nothing executes it any more.
//
// The defence: run from a read-only bind mount of our own binary. The mount is
// detached (open_tree, no mount namespace, nothing visible anywhere), so every
// /proc/PID/exe of the runtime's processes leads there and reopening it for writing
// fails with EROFS.
#pragma once

namespace husk::sys {

// Is the running binary on a read-only mount already?
bool self_exe_readonly() noexcept;

// What an earlier look found (husk-runtime's ELF entry point, before the C library started),
// so this process decides once: `readonly`, or else the re-exec is impossible here with
// `err` (EPERM without CAP_SYS_ADMIN, ENOSYS...): later calls return that at once.
void note_self_exe(bool readonly, int err) noexcept;

// Unless self_exe_readonly(): re-execute this process, same argv and environment, from
// a read-only detached bind mount of /proc/self/exe. Returns only when that was not
// needed (true) or not possible (false, errno set: e.g. no CAP_SYS_ADMIN). Tried once per
// process: a failure is remembered (as note_self_exe), and so is being read-only.
bool reexec_from_readonly_self() noexcept;

}  // namespace husk::sys
