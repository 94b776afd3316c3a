// Errors of husk: one exception type that carries what was done, on which
// path, and the errno; callers add context as the error travels up. What a caller
// decides on is the error's kind (and errno), never its message text.
#pragma once

#include <cerrno>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

#include <fmt/format.h>

namespace husk {

// What an error means to a caller that decides something on it. Set where the error
// is raised, kept as callers add context. Only kinds some caller decides on.
enum class ErrorKind : uint8_t {
    none,
    name_in_use,     // a container name is taken by another container (engine/record)
    exec_not_found,  // the container's program was not found (runtime sync "lookup", ENOENT)
    exec_denied,     // the container's program may not be executed (lookup, EACCES)
};

// The exit status a command ends with when this error ends it (docker's 125: the
// engine failed, 126: cannot execute, 127: not found).
struct ExitCode {
    int value = 0;
};

// A failure with a human message. `context` is prepended by callers:
//   create container "web": mount "proc" on "/x/rootfs/proc": EPERM
class Error : public std::runtime_error {
  public:
    explicit Error(const std::string& msg, int err = 0, ErrorKind kind = ErrorKind::none)
        : std::runtime_error(msg), errno_(err), kind_(kind) {}
    Error(const std::string& msg, ExitCode exit, ErrorKind kind = ErrorKind::none, int err = 0)
        : std::runtime_error(msg), errno_(err), kind_(kind), exit_code_(exit.value) {}
    int code() const noexcept { return errno_; }
    ErrorKind kind() const noexcept { return kind_; }
    // The command's exit status when one was decided (ExitCode), else 0.
    int exit_code() const noexcept { return exit_code_; }

  private:
    int errno_;
    ErrorKind kind_;
    int exit_code_ = 0;
};

// A value as an error message shows it, on one line and of a sane length: control
// bytes escaped (\n, \x00), and a value longer than kShownMax bytes cut in the middle
// ("aaaa[…9744 bytes…]aaaa") on UTF-8 character boundaries. A 10,000-character
// hostname must not make a 10 KB error line.
inline constexpr size_t kShownMax = 256;
std::string shown(std::string_view value);

namespace detail {
// What error_format passes on to fmt for an argument of type T: strings are values and
// are shown(); an exception is a message (its what(), whole); anything else as it is.
template <class T>
constexpr bool is_text_v = std::is_convertible_v<const T&, std::string_view>;
template <class T>
constexpr bool is_exception_v = std::is_base_of_v<std::exception, T>;
template <class T>
using shown_t = std::conditional_t<is_text_v<std::remove_cvref_t<T>>, std::string,
                                   std::conditional_t<is_exception_v<std::remove_cvref_t<T>>,
                                                      std::string_view, std::remove_cvref_t<T>>>;
template <class T>
shown_t<T> for_message(const T& v) {
    if constexpr (is_text_v<T>)
        return shown(std::string_view(v));
    else if constexpr (is_exception_v<T>)
        return std::string_view(v.what());
    else
        return v;
}
}  // namespace detail

// fmt::format for error messages, the one place where values are cut: every string
// argument is shown() (cut and escaped); pass an exception itself, not its what(), to
// embed its whole message.
//   error_format("unknown signal \"{}\"", text)   -> unknown signal "aaaa[…]aaaa"
template <class... T>
std::string error_format(fmt::format_string<detail::shown_t<T>...> f, const T&... args) {
    auto values = std::make_tuple(detail::for_message(args)...);
    return std::apply(
        [&](const auto&... v) { return fmt::vformat(f, fmt::make_format_args(v...)); }, values);
}

// Symbolic name of an errno value ("EPERM"), or the number when unknown.
std::string errno_name(int err);

// "op \"path\": EPERM (Operation not permitted)"; the path is shown().
std::string describe_sys(std::string_view op, std::string_view path, int err);

// A failed system call: the operation, the path it was applied to (may be empty) and errno.
class SysError : public Error {
  public:
    SysError(std::string_view op, std::string_view path, int err)
        : Error(describe_sys(op, path, err), err) {}
};

[[noreturn]] void throw_sys(std::string_view op, std::string_view path = {}, int err = errno);

// Prefix the message of `e` with `ctx`, keeping errno, kind and exit code.
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
