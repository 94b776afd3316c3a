// The engine's side of husk-monitor (src/monitor): starting a detached container
// under a monitor of its own, and talking to that monitor (attach).
//
// start_monitored() forks twice; the grandchild (the future monitor) becomes a
// subreaper, takes <id>/monitor.lock, opens <id>/attach.sock, forks the process that
// creates the container with the runtime core (in-process, stdio on the monitor's
// pipes or pty) and execs husk-monitor. The container's init is then reparented to
// the monitor, which waits for it, logs its output and finally execs
// `husk container-cleanup ID`. The caller gets the init's pid once it is created
// (blocked on its exec fifo) and starts it.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "engine/record.h"

namespace husk::engine {

struct EngineContext;

// Creates the container of `rec` (its bundle written) under a new monitor; returns the
// init's host pid. Throws an Error with docker's exit code (126, 127, 125: Error::exit_code) when
// the runtime could not create it.
pid_t start_monitored(const EngineContext& ctx, const ContainerRecord& rec);

// Attach this terminal/stdio to the container through its monitor's socket. Returns the
// container's exit code when it ends, or -2 when the user detached (`detach_keys`, docker's
// "ctrl-p,ctrl-q" form) or the monitor went away. `in`: forward our stdin.
int attach(const Containers& db, const ContainerRecord& rec, bool in,
           const std::string& detach_keys);

// Connects to <id>/attach.sock (before the container is started, to miss no output).
sys::UniqueFd connect_attach(const Containers& db, const std::string& id);
// The relay of attach() on an already connected socket.
int attach_relay(int sock, bool tty, bool in, const std::string& detach_keys);

// Reads the monitor's frames on a connected attach socket, discarding the output, until
// the exit frame: the container's exit code; nullopt when the monitor went away first.
std::optional<int> read_exit_code(int sock);

// Writes all of `s` to `fd` (a report pipe): interrupted writes resumed; gives up quietly
// when the reader is gone.
void write_str(int fd, const std::string& s);

// Tells the container's monitor that it was stopped through husk: its restart policy ends
// (a backoff under way is cut short). Quietly nothing when no monitor listens.
void tell_no_restart(const Containers& db, const std::string& id);

// Gives the container's monitor `fd` to hold until it ends (a HOLD frame on its attach
// socket carrying it): slirp4netns's exit pipe, so that it lives as long as the monitor
// (the fd is queued in the socket until the monitor, busy with a restart, reads it).
// Throws naming the socket when no monitor listens.
void hand_to_monitor(const Containers& db, const std::string& id, int fd);

// Parses "ctrl-p,ctrl-q", "a,ctrl-b": the byte sequence; throws on a bad key.
std::string parse_detach_keys(const std::string& keys);

// husk, husk-init, husk-monitor: $HUSK_EXE (the binary husk was started from; main.cpp
// sets it) or /proc/self/exe, and the helpers next to it.
std::string husk_exe();
std::string find_helper(const std::string& name, const char* env_override);

}  // namespace husk::engine
