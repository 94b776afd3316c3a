// Bringing up the loopback interface of the network namespace we are in (a new network
// namespace has `lo` down). System calls only, no allocation: usable between fork and exec.
#pragma once

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace husk::sys {

// 0, or the errno of the step that failed (socket, SIOCGIFFLAGS, SIOCSIFFLAGS).
inline int bring_up_loopback() noexcept {
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return errno;
    struct ifreq ifr {};
    std::memcpy(ifr.ifr_name, "lo", 3);
    int err = 0;
    if (::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
        err = errno;
    } else {
        ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
        if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) err = errno;
    }
    ::close(s);
    return err;
}

}  // namespace husk::sys
