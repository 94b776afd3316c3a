// The host side of a container's terminal: the console socket engines listen on,
// and for a foreground `run`, the relay between our own terminal and the pty. The
// child side (init_console, declared with the init in init.h) is in terminal.cpp too.
#pragma once

#include <sys/types.h>

#include <string>

#include "sys/fd.h"

namespace husk::runtime {

// Connect to the console socket at `path` (SOCK_STREAM unix socket) for the init.
sys::UniqueFd connect_console_socket(const std::string& path);

// Relay stdin → pty master and master → stdout until the container's side of the pty
// is closed; our stdin is in raw mode meanwhile (when it is a terminal) and window
// size changes are passed on. Returns when the master reports EOF/EIO.
// Without `forward_input` (docker's -t without -i) our stdin is left alone: not read,
// not made raw, and the container's terminal never sees an end-of-file from us.
void relay_terminal(int master, bool forward_input = true);

// Give the pty master the window size of our own terminal (when stdin/stdout is one).
void copy_window_size(int master);

}  // namespace husk::runtime
