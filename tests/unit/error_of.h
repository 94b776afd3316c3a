// The message a call throws ("" when it does not): for tests of one-line errors.
#pragma once

#include <exception>
#include <functional>
#include <string>

inline std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}
