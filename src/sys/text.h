// Small text helpers shared by every layer.
#pragma once

#include <string>
#include <string_view>

namespace husk::sys {

// `s` with ASCII A-Z turned into a-z (no locale: header names, digests, purl parts).
inline std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// `s` with ASCII a-z turned into A-Z (signal and capability names, column titles).
inline std::string ascii_upper(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

}  // namespace husk::sys
