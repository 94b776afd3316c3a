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

namespace {

bool continuation(char c) {
    return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

void append_escaped(std::string& out, std::string_view s) {
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (c == '\n')
            out += "\\n";
        else if (c == '\t')
            out += "\\t";
        else if (c == '\r')
            out += "\\r";
        else if (u < 0x20 || u == 0x7f)
            out += fmt::format("\\x{:02x}", u);
        else
            out += c;
    }
}

}  // namespace

std::string shown(std::string_view value) {
    std::string out;
    if (value.size() <= kShownMax) {
        append_escaped(out, value);
        return out;
    }
    // The head says what it is, the tail (of a path, say) where it ends.
    size_t head = kShownMax * 3 / 4, tail = value.size() - kShownMax / 4;
    while (head > 0 && continuation(value[head])) --head;
    while (tail < value.size() && continuation(value[tail])) ++tail;
    append_escaped(out, value.substr(0, head));
    out += fmt::format("[…{} bytes…]", tail - head);
    append_escaped(out, value.substr(tail));
    return out;
}

std::string describe_sys(std::string_view op, std::string_view path, int err) {
    std::string out(op);
    if (!path.empty()) out += fmt::format(" \"{}\"", shown(path));
    if (err != 0) out += fmt::format(": {} ({})", errno_name(err), std::strerror(err));
    return out;
}

void throw_sys(std::string_view op, std::string_view path, int err) {
    throw SysError(op, path, err);
}

void rethrow_with_context(const std::exception& e, std::string_view ctx) {
    std::string msg = fmt::format("{}: {}", ctx, e.what());
    if (auto* he = dynamic_cast<const Error*>(&e))
        throw Error(msg, ExitCode{he->exit_code()}, he->kind(), he->code());
    throw Error(msg);
}

}  // namespace husk
