// The wall clock as the engine's journals and files write it: Unix time in nanoseconds.
#pragma once

#include <cstdint>
#include <ctime>

namespace husk::sys {

inline int64_t realtime_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

}  // namespace husk::sys
