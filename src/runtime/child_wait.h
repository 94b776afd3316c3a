// The foreground side of `run` and `exec`: pass signals on to the container process
// and wait for it as its parent (and subreaper), reaping orphans meanwhile.
#pragma once

#include <sys/types.h>

namespace husk::runtime {

// Forward INT TERM HUP QUIT USR1 USR2 WINCH CONT sent to us to `pid`.
void forward_signals_to(pid_t pid);
// Wait for `pid`; returns its exit status, 128+n for a signal.
int wait_child(pid_t pid);

}  // namespace husk::runtime
