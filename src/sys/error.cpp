#include "sys/error.h"

#include <cstring>

#include <fmt/format.h>

namespace husk {

std::string errno_name(int err) {
    // strerrorname_np exists since glibc 2.32 (Debian 12 has 2.36).
    if (const char* n = strerrordesc_np(err); n == nullptr) return fmt::format("errno {}", err);
    const char* name = strerrorname_np(err);
    return name ? name : fmt::format("errno {}", err);
}

std::string describe_sys(std::string_view op, std::string_view path, int err) {
    std::string out(op);
    if (!path.empty()) out += fmt::format(" \"{}\"", path);
    if (err != 0) out += fmt::format(": {} ({})", errno_name(err), std::strerror(err));
    return out;
}

void throw_sys(std::string_view op, std::string_view path, int err) {
    throw SysError(op, path, err);
}

void rethrow_with_context(const std::exception& e, std::string_view ctx) {
    int err = 0;
    if (auto* he = dynamic_cast<const Error*>(&e)) err = he->code();
    throw Error(fmt::format("{}: {}", ctx, e.what()), err);
}

}  // namespace husk
