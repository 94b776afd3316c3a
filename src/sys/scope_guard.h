// A scope guard: run a cleanup when the scope ends, unless the work it guards got
// far enough to dismiss it. The one way husk undoes a half-done operation (a create
// that fails after making its state directory, a run that fails after recording the
// container) on every error path.
#pragma once

#include <type_traits>
#include <utility>

namespace husk::sys {

// `fn` runs from a destructor: it must not throw (catch and log inside it).
//   sys::ScopeGuard undo([&]() noexcept { dir.remove_quietly(); });
//   ...
//   undo.dismiss();  // done: keep what was made
template <class Fn>
class ScopeGuard {
    static_assert(std::is_nothrow_invocable_v<Fn&>,
                  "a scope guard's cleanup runs from a destructor: make it noexcept");

  public:
    explicit ScopeGuard(Fn fn) noexcept(std::is_nothrow_move_constructible_v<Fn>)
        : fn_(std::move(fn)) {}
    ~ScopeGuard() {
        if (active_) fn_();
    }
    ScopeGuard(const ScopeGuard&) = delete;
    ScopeGuard& operator=(const ScopeGuard&) = delete;
    ScopeGuard(ScopeGuard&&) = delete;
    ScopeGuard& operator=(ScopeGuard&&) = delete;

    // The work succeeded: the cleanup will not run.
    void dismiss() noexcept { active_ = false; }

  private:
    Fn fn_;
    bool active_ = true;
};

}  // namespace husk::sys
