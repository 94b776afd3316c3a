// linux.timeOffsets: a new time namespace with the config's clock offsets.
//
// Offsets can only be written before any process has entered the namespace, so
// the namespace cannot be made by clone3(CLONE_NEWTIME) (the child is in it at
// once). Instead the parent unshare(CLONE_NEWTIME)s, which makes the namespace its
// *children* will enter without moving the parent itself, writes
// /proc/self/timens_offsets, clones the init, and then returns its children's time
// namespace to its own (setns), so hooks it runs later keep the host's clocks. No
// second fork is needed.
//
// Rootless the runtime may not unshare a time namespace (that takes CAP_SYS_ADMIN in its
// own user namespace, the host's): the init makes it inside the container's user
// namespace instead (enter_new_time_namespace), where it has that capability and the
// namespace is owned by the container's user namespace.
#pragma once

#include <map>
#include <string>

#include "oci/spec.h"
#include "sys/fd.h"

namespace husk::runtime {

// "monotonic 5 0\nboottime 86400 0\n" for /proc/self/timens_offsets.
std::string format_time_offsets(const std::map<std::string, oci::TimeOffset>& offsets);

// While alive, processes we create are born in a new time namespace with `offsets`.
class TimeNamespaceForChildren {
  public:
    explicit TimeNamespaceForChildren(const std::string& offsets);
    ~TimeNamespaceForChildren();  // our children are born in our own time namespace again
    TimeNamespaceForChildren(const TimeNamespaceForChildren&) = delete;
    TimeNamespaceForChildren& operator=(const TimeNamespaceForChildren&) = delete;

  private:
    sys::UniqueFd own_;
};

// Child side (the init, single-threaded, in its user namespace): unshare a time
// namespace, write `offsets` to /proc/self/timens_offsets and enter it (setns into our
// own time_for_children, as the kernel's timens selftests do). 0, or the errno of the
// failed step, named in `*step`.
int enter_new_time_namespace(const std::string& offsets, const char** step) noexcept;

}  // namespace husk::runtime
