// Cloning the container's init, with the second process some namespace joins need.
#pragma once

#include <sys/types.h>

#include "runtime/plan.h"
#include "sys/syscalls.h"

namespace husk::runtime {

// clone3 the init (which runs init_main and never returns; `parent_sock`, our end of
// the sync socket, is closed in it). A PID namespace joined by path is entered for the
// clone only; a user namespace joined by path takes a helper process (init_clone.cpp).
// Returns the init's host pid; it is always our child.
pid_t clone_init(const sys::CloneArgs& args, const Plan& plan, int parent_sock);

}  // namespace husk::runtime
