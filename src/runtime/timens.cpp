#include "runtime/timens.h"

#include <fcntl.h>
#include <sched.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/log.h"

namespace husk::runtime {

std::string format_time_offsets(const std::map<std::string, oci::TimeOffset>& offsets) {
    std::string out;
    for (const auto& [clock, off] : offsets)
        out += fmt::format("{} {} {}\n", clock, off.secs, off.nanosecs);
    return out;
}

TimeNamespaceForChildren::TimeNamespaceForChildren(const std::string& offsets) {
    own_.reset(::open("/proc/self/ns/time", O_RDONLY | O_CLOEXEC));
    if (!own_) throw_sys("open", "/proc/self/ns/time");
    if (::unshare(CLONE_NEWTIME) != 0) throw_sys("unshare time namespace");
    try {
        if (!offsets.empty())
            with_context("linux.timeOffsets",
                         [&] { sys::write_file("/proc/self/timens_offsets", offsets); });
    } catch (...) {
        ::setns(own_.get(), CLONE_NEWTIME);
        throw;
    }
}

TimeNamespaceForChildren::~TimeNamespaceForChildren() {
    if (::setns(own_.get(), CLONE_NEWTIME) != 0)
        log::warn("setns back to our own time namespace: {}", std::strerror(errno));
}

}  // namespace husk::runtime
