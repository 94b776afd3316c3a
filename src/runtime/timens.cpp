#include "runtime/timens.h"

#include <fcntl.h>
#include <sched.h>

#include <cerrno>
#include <cstring>

#include <unistd.h>

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

int enter_new_time_namespace(const std::string& offsets, const char** step) noexcept {
    *step = "unshare time namespace";
    if (::unshare(CLONE_NEWTIME) != 0) return errno;
    if (!offsets.empty()) {
        *step = "linux.timeOffsets: write /proc/self/timens_offsets";
        int fd = ::open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
        if (fd < 0) return errno;
        ssize_t n = ::write(fd, offsets.data(), offsets.size());
        int err = n < 0 ? errno : 0;
        ::close(fd);
        if (n < 0) return err;
        if (static_cast<size_t>(n) != offsets.size()) return EIO;
    }
    *step = "enter the new time namespace";
    int ns = ::open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
    if (ns < 0) return errno;
    int r = ::setns(ns, CLONE_NEWTIME);
    int err = r != 0 ? errno : 0;
    ::close(ns);
    return err;
}

}  // namespace husk::runtime
