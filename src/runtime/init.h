// The container's init between clone and execve. Async-signal-safe only: it
// reads the prepared Plan, reports failures over plan.sync_fd and _exits.
#pragma once

#include <span>

#include "runtime/plan.h"

namespace husk::runtime {

// Never returns: execve()s the container process or _exit()s.
[[noreturn]] void init_main(const Plan& plan) noexcept;

// An exec'd process: join the container's namespaces, then the same process setup
// as the init (without the fifo). Never returns.
[[noreturn]] void exec_main(const Plan& plan) noexcept;

void init_console(const Plan& plan) noexcept;  // pty, /dev/console, stdio (terminal.cpp)

// Run the init's own hooks (createContainer, startContainer); a failure is reported
// to the parent as "<phase> hook" and the init exits.
void init_hooks(const Plan& plan, std::span<const PlannedHook> hooks, const char* phase) noexcept;

// Report a failure to the parent and _exit(1).
[[noreturn]] void init_fail(const Plan& plan, const char* step, const char* path, int err) noexcept;

}  // namespace husk::runtime
