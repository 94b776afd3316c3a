// The network's long-lived helpers (husk-dns, husk-proxy): started detached from the
// command that needs them, each with a directory of its own, DIR:
//   lock  flock'ed for the helper's whole life: held means it runs, and a killed one's
//         goes with it, so a stale helper is never mistaken for a live one and two never run
//   pid   "PID START_TIME", written by the helper
//   log   its complaints (stderr)
// The helper gets the lock's and a ready pipe's descriptor numbers as argv[1] and argv[2]
// and writes "ok\n" to the pipe once it serves, or "err MESSAGE\n".
#pragma once

#include <string>
#include <vector>

namespace husk::network {

// Starts `args` (args[0] the program; the two descriptors inserted after it) unless one
// runs in `dir`; returns once it serves: true, or false when one ran already. Throws
// husk::Error with the helper's own message (nothing left running) when it cannot serve.
bool start_daemon(const std::string& dir, std::vector<std::string> args);

// Kills the helper of `dir` if one runs, waits for its end and removes `dir`.
void stop_daemon(const std::string& dir);

// The helper's side: once it serves, DIR/pid written and "ok" on READY_FD; on failure
// (`error` not empty) "err ERROR" and ERROR on stderr. READY_FD is closed.
void daemon_ready(int ready_fd, const std::string& dir, const std::string& error = {});

}  // namespace husk::network
