#include "sys/json_write.h"

#include <array>
#include <charconv>

#include "sys/error.h"

namespace husk::sys {
namespace {

// The bytes a JSON string holds as they are: printable ASCII but the quote and backslash.
constexpr auto kPlain = [] {
    std::array<bool, 256> t{};
    for (size_t c = 0x20; c < 0x80; ++c) t[c] = c != '"' && c != '\\';
    return t;
}();

// The length of the UTF-8 sequence at s[i] (lead byte >= 0x80), 0 if it is not a valid one.
size_t utf8_length(std::string_view s, size_t i) {
    auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = byte(i);
    size_t n = 0;
    uint32_t cp = 0;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1fU;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0fU;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07U;
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k) {
        if ((byte(i + k) & 0xc0U) != 0x80) return 0;
        cp = (cp << 6U) | (byte(i + k) & 0x3fU);
    }
    // overlong forms, UTF-16 surrogates and beyond U+10FFFF are not UTF-8
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s, std::string_view what) {
    out += '"';
    size_t plain = 0;  // s[plain, i) is copied as it is
    for (size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        if (kPlain[c]) {
            ++i;
            continue;
        }
        if (c >= 0x80) {
            size_t n = utf8_length(s, i);
            if (n == 0)
                throw Error(fmt::format("{} \"{}\": invalid UTF-8 at byte {}", what, shown(s), i));
            i += n;
            continue;
        }
        out.append(s.data() + plain, i - plain);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                out += fmt::format("\\u{:04x}", c);
                break;
        }
        plain = ++i;
    }
    out.append(s.data() + plain, s.size() - plain);
    out += '"';
}

JsonObject& JsonObject::integer(int64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
    return *this;
}

JsonObject& JsonObject::unsigned_integer(uint64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
    return *this;
}

}  // namespace husk::sys
