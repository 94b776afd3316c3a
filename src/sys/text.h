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

}  // namespace husk::sys
