// Errors of husk: one exception type that carries what was done, on which
// path, and the errno; callers add context as the error travels up.
#pragma once

#include <cerrno>
#include <stdexcept>
#include <string>
#include <string_view>

namespace husk {

// A failure with a human message. `context` is prepended by callers:
//   create container "web": mount "proc" on "/x/rootfs/proc": EPERM
class Error : public std::runtime_error {
  public:
    explicit Error(const std::string& msg, int err = 0) : std::runtime_error(msg), errno_(err) {}
    int code() const noexcept { return errno_; }

  private:
    int errno_;
};

// Symbolic name of an errno value ("EPERM"), or the number when unknown.
std::string errno_name(int err);

// "op \"path\": EPERM (Operation not permitted)"
std::string describe_sys(std::string_view op, std::string_view path, int err);

// A failed system call: the operation, the path it was applied to (may be empty) and errno.
class SysError : public Error {
  public:
    SysError(std::string_view op, std::string_view path, int err)
        : Error(describe_sys(op, path, err), err) {}
};

[[noreturn]] void throw_sys(std::string_view op, std::string_view path = {}, int err = errno);

// Prefix the message of `e` with `ctx`, keeping errno.
[[noreturn]] void rethrow_with_context(const std::exception& e, std::string_view ctx);

// Run `fn`; if it throws, add `ctx: ` in front of the message.
template <class Fn>
auto with_context(std::string_view ctx, Fn&& fn) -> decltype(fn()) {
    try {
        return fn();
    } catch (const std::exception& e) {
        rethrow_with_context(e, ctx);
    }
}

}  // namespace husk
