// A user-mode network helper of a container: a process (pasta, slirp4netns) that joins the
// container's namespaces, gives it an interface and forwards the published ports from the
// host. It does not end when the namespace's last process does (attached by path it is never
// told): it is stopped by pid with its container. Its directory, DIR:
//   pid    its pid, written by the child that becomes the helper before its execve (a
//          command killed at any moment leaves what stop_helper needs)
//   log    what it said on stderr
// and the helper's own files. One of its arguments names a file in DIR: that is how a pid in
// DIR/pid is known to be still its helper (a pid reused since is never killed).
#pragma once

#include <chrono>

#include <sys/types.h>

#include <array>
#include <functional>
#include <string>
#include <vector>

#include "network/ports.h"
#include "sys/fd.h"

namespace husk::network {

// How long a helper may take to be ready, or to answer a request on its socket.
inline constexpr auto kHelperWithin = std::chrono::seconds(20);

struct UsernetHelper {
    std::string name;                     // "pasta": in messages
    std::vector<std::string> args;        // its argv; args[0] its path; one names a file in DIR
    std::array<int, 3> keep{-1, -1, -1};  // descriptors it inherits (-1: none)
    // asked until it serves: whenever `ready_fd` turns readable (or every 2 ms without one)
    std::function<bool()> ready;
    int userns_fd = -1;  // a user namespace it runs in (joined before its execve); -1: ours
    int ready_fd = -1;   // readable once `ready` may say yes (its ready pipe); -1: none
};

// Starts `helper` for the container whose init is `init` and returns its pid once `ready`
// says so (the caller closes what it passed in `keep`). Throws husk::Error with the helper's
// own words (nothing left running, `dir` removed) when it ends first or is not ready within
// 20 s.
pid_t start_helper(const std::string& dir, pid_t init, const UsernetHelper& helper);

// Kills the helper of `dir` if one runs (by its pid, once /proc says that pid is still the
// helper of `dir`), waits for its end and removes `dir`. No-op without `dir`.
void stop_helper(const std::string& dir);

// While one lives, stop_helper sends the helper its SIGKILL and leaves the wait for its end
// to this object's end: a foreground `run --rm` overlaps that end (the kernel's teardown of
// the helper's tap device with it: tens of ms) with the removal of the container, and still
// returns only once the helper is gone (its ports free, no process left). Per thread; one
// made while another lives leaves the waits to the outer one.
class DeferredHelperEnds {
  public:
    DeferredHelperEnds();
    ~DeferredHelperEnds();
    DeferredHelperEnds(const DeferredHelperEnds&) = delete;
    DeferredHelperEnds& operator=(const DeferredHelperEnds&) = delete;

    struct Killed {
        sys::UniqueFd pidfd;
        pid_t pid = 0;
        std::string dir;
    };

  private:
    std::vector<Killed> killed_;
};

// The last line the helper of `dir` said (its log) that is not about the system logger.
std::string helper_last_words(const std::string& dir);

// Ports below net.ipv4.ip_unprivileged_port_start cannot be bound by a user: throws
// naming the sysctl.
void check_unprivileged_ports(const std::vector<PortMapping>& ports);

}  // namespace husk::network
