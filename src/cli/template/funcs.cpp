// Values as Go's fmt prints them, the template functions, and Go's tabwriter as
// docker's formatter configures it.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "cli/template/template.h"
#include "cli/template/tmpl_value.h"

namespace husk::cli::tmpl {

using nlohmann::json;

std::string go_print(const json& v) {
    switch (v.type()) {
        case json::value_t::null:
            return "<nil>";
        case json::value_t::string:
            return v.get<std::string>();
        case json::value_t::boolean:
            return v.get<bool>() ? "true" : "false";
        case json::value_t::number_integer:
            return std::to_string(v.get<int64_t>());
        case json::value_t::number_unsigned:
            return std::to_string(v.get<uint64_t>());
        case json::value_t::number_float: {
            // Go's %v of a float64: the shortest form, exponent from 1e21 on
            double d = v.get<double>();
            return std::abs(d) < 1e21 ? fmt::format("{}", d) : fmt::format("{:e}", d);
        }
        case json::value_t::array: {
            std::string out = "[";
            for (size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + go_print(v[i]);
            return out + "]";
        }
        case json::value_t::object: {
            std::string out = "map[";
            bool first = true;
            for (auto& [k, e] : v.items()) {
                out += fmt::format("{}{}:{}", first ? "" : " ", k, go_print(e));
                first = false;
            }
            return out + "]";
        }
        default:
            return v.dump();
    }
}

std::string go_type(const json& v) {
    switch (v.type()) {
        case json::value_t::null:
            return "<nil>";
        case json::value_t::string:
            return "string";
        case json::value_t::boolean:
            return "bool";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned:
            return "int";
        case json::value_t::number_float:
            return "float64";
        case json::value_t::array:
            return "[]interface {}";
        case json::value_t::object:
            return "map[string]interface {}";
        default:
            return "interface {}";
    }
}

bool truth(const json& v) {
    switch (v.type()) {
        case json::value_t::null:
            return false;
        case json::value_t::boolean:
            return v.get<bool>();
        case json::value_t::number_integer:
        case json::value_t::number_unsigned:
            return v.get<int64_t>() != 0;
        case json::value_t::number_float:
            return v.get<double>() != 0;
        case json::value_t::string:  // (json::empty() is false for every string)
            return !v.get_ref<const std::string&>().empty();
        case json::value_t::array:
        case json::value_t::object:
            return !v.empty();
        default:
            return true;
    }
}

std::string to_json(const json& v) {
    return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

void want_args(const std::string& f, const std::vector<json>& a, size_t n) {
    if (a.size() != n)
        throw FuncError(fmt::format("wrong number of args for {}: want {} got {}", f, n, a.size()));
}

const std::string& want_string(const json& v) {
    if (!v.is_string())
        throw FuncError(fmt::format("wrong type for value; expected string; got {}", go_type(v)));
    return v.get_ref<const std::string&>();
}

int64_t want_int(const json& v) {
    if (!v.is_number_integer())
        throw FuncError(fmt::format("wrong type for value; expected int; got {}", go_type(v)));
    return v.get<int64_t>();
}

// eq/lt/...: -1, 0, 1; numbers with numbers, strings with strings, bools and nil for eq.
int compare(const json& a, const json& b, bool ordered) {
    if (a.is_number() && b.is_number()) {
        double x = a.get<double>(), y = b.get<double>();
        if (a.is_number_integer() && b.is_number_integer()) {
            int64_t i = a.get<int64_t>(), j = b.get<int64_t>();
            return i < j ? -1 : i > j ? 1 : 0;
        }
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a.is_string() && b.is_string()) {
        int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
        return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    if (a.is_array() || a.is_object() || b.is_array() || b.is_object())
        throw FuncError(fmt::format("non-comparable type {}", go_type(a.is_structured() ? a : b)));
    if (ordered) throw FuncError(fmt::format("invalid type for comparison"));
    if (a.type() != b.type() && !a.is_null() && !b.is_null())
        throw FuncError("incompatible types for comparison");
    return a == b ? 0 : 1;
}

std::string map_chars(std::string s, int (*f)(int)) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [f](unsigned char c) { return static_cast<char>(f(c)); });
    return s;
}

// Go's strings.Title: a letter after a separator (not a letter, digit or '_') is upper-cased.
std::string title(std::string s) {
    bool after_sep = true;
    for (char& c : s) {
        auto u = static_cast<unsigned char>(c);
        if (after_sep) c = static_cast<char>(std::toupper(u));
        after_sep = !(std::isalnum(u) != 0 || c == '_' || u >= 0x80);
    }
    return s;
}

// fmt.Sprint: a space between operands when neither is a string.
std::string sprint(const std::vector<json>& args, bool line) {
    std::string out;
    for (size_t i = 0; i < args.size(); ++i) {
        if (i > 0 && (line || (!args[i].is_string() && !args[i - 1].is_string()))) out += ' ';
        out += go_print(args[i]);
    }
    return line ? out + "\n" : out;
}

// One %verb of Go's fmt, with flags, width and precision.
std::string format_verb(char verb, std::string_view flags, std::string_view width,
                        std::string_view prec, const json& v) {
    std::string align = flags.find('-') != std::string_view::npos ? "<" : ">";
    std::string spec = align;
    if (flags.find('+') != std::string_view::npos) spec += '+';
    if (flags.find('0') != std::string_view::npos && align == ">") spec = "0";
    spec += std::string(width);
    if (!prec.empty()) spec += fmt::format(".{}", prec);
    auto fmt1 = [&](const auto& value, std::string_view type) {
        return fmt::vformat(fmt::format("{{:{}{}}}", spec, type), fmt::make_format_args(value));
    };
    switch (verb) {
        case 'd':
            if (v.is_number()) return fmt1(v.get<int64_t>(), "d");
            break;
        case 'x':
        case 'X':
            if (v.is_number_integer()) return fmt1(v.get<int64_t>(), std::string(1, verb));
            if (v.is_string()) {
                std::string hex;
                for (unsigned char c : v.get_ref<const std::string&>())
                    hex += verb == 'x' ? fmt::format("{:02x}", c) : fmt::format("{:02X}", c);
                return fmt1(hex, "");
            }
            break;
        case 'f':
        case 'F':
            if (v.is_number()) return fmt1(v.get<double>(), prec.empty() ? ".6f" : "f");
            break;
        case 'e':
        case 'g':
            if (v.is_number()) return fmt1(v.get<double>(), std::string(1, verb));
            break;
        case 'q':
            if (v.is_string()) return fmt1(to_json(v), "");
            break;
        case 't':
            if (v.is_boolean()) return fmt1(go_print(v), "");
            break;
        case 's':
        case 'v':
            return fmt1(go_print(v), "");
        default:
            break;
    }
    return fmt::format("%!{}({}={})", verb, go_type(v), go_print(v));
}

std::string sprintf(const std::string& f, const std::vector<json>& args) {
    std::string out;
    size_t next = 1;  // args[0] is the format
    for (size_t i = 0; i < f.size(); ++i) {
        if (f[i] != '%') {
            out += f[i];
            continue;
        }
        size_t j = i + 1;
        size_t fs = j;
        while (j < f.size() && std::string_view("-+# 0").find(f[j]) != std::string_view::npos) ++j;
        std::string_view flags(f.data() + fs, j - fs);
        size_t ws = j;
        while (j < f.size() && std::isdigit(static_cast<unsigned char>(f[j])) != 0) ++j;
        std::string_view width(f.data() + ws, j - ws);
        std::string_view prec;
        if (j < f.size() && f[j] == '.') {
            size_t ps = ++j;
            while (j < f.size() && std::isdigit(static_cast<unsigned char>(f[j])) != 0) ++j;
            prec = std::string_view(f.data() + ps, j - ps);
            if (prec.empty()) prec = "0";
        }
        if (j >= f.size()) {
            out += "%!(NOVERB)";
            break;
        }
        char verb = f[j];
        i = j;
        if (verb == '%') {
            out += '%';
            continue;
        }
        if (next >= args.size()) {
            out += fmt::format("%!{}(MISSING)", verb);
            continue;
        }
        out += format_verb(verb, flags, width, prec, args[next++]);
    }
    return out;
}

// Go's index of a missing map key is the zero value of the map's element type. The
// type is gone from JSON, so it is read off the other values: a map of strings (Labels,
// Options, the common case, and what an empty map is taken to be) gives "", of numbers
// 0, of bools false, of lists []; a map of objects (Networks) gives nil, as Go's nil
// pointer prints "<nil>".
json map_zero_value(const json& map) {
    if (map.empty()) return "";
    const json& v = map.begin().value();
    switch (v.type()) {
        case json::value_t::string:
            return "";
        case json::value_t::boolean:
            return false;
        case json::value_t::number_integer:
        case json::value_t::number_unsigned:
            return 0;
        case json::value_t::number_float:
            return 0.0;
        case json::value_t::array:
            return json::array();
        default:
            return json();
    }
}

json index(const std::vector<json>& a) {
    if (a.empty()) throw FuncError("wrong number of args for index: want at least 1 got 0");
    json cur = a[0];
    for (size_t i = 1; i < a.size(); ++i) {
        if (cur.is_array()) {
            int64_t n = want_int(a[i]);
            if (n < 0 || static_cast<size_t>(n) >= cur.size())
                throw FuncError(fmt::format("index out of range: {}", n));
            json next = cur[static_cast<size_t>(n)];
            cur = std::move(next);
        } else if (cur.is_object()) {
            const std::string& k = want_string(a[i]);
            json next = cur.contains(k) ? cur[k] : map_zero_value(cur);
            cur = std::move(next);
        } else if (cur.is_null()) {
            throw FuncError("index of untyped nil");
        } else {
            throw FuncError(fmt::format("can't index item of type {}", go_type(cur)));
        }
    }
    return cur;
}

// Go's slice: item[i], item[i:j], item[i:j:k] of a string (bytes, two indexes at most)
// or an array.
json slice(const std::vector<json>& a) {
    if (a.empty()) throw FuncError("wrong number of args for slice: want at least 1 got 0");
    const json& item = a[0];
    if (item.is_null()) throw FuncError("slice of untyped nil");
    if (a.size() > 4) throw FuncError(fmt::format("too many slice indexes: {}", a.size() - 1));
    if (!item.is_string() && !item.is_array())
        throw FuncError(fmt::format("can't slice item of type {}", go_type(item)));
    if (item.is_string() && a.size() == 4) throw FuncError("cannot 3-index slice a string");
    size_t len = item.is_string() ? item.get_ref<const std::string&>().size() : item.size();
    std::array<size_t, 3> idx = {0, len, len};
    for (size_t i = 1; i < a.size(); ++i) {
        int64_t x = want_int(a[i]);
        if (x < 0 || static_cast<uint64_t>(x) > len)
            throw FuncError(fmt::format("index out of range: {}", x));
        idx.at(i - 1) = static_cast<size_t>(x);
    }
    if (idx[0] > idx[1])
        throw FuncError(fmt::format("invalid slice index: {} > {}", idx[0], idx[1]));
    if (a.size() == 4 && idx[1] > idx[2])
        throw FuncError(fmt::format("invalid slice index: {} > {}", idx[1], idx[2]));
    if (item.is_string()) return item.get_ref<const std::string&>().substr(idx[0], idx[1] - idx[0]);
    json out = json::array();
    for (size_t i = idx[0]; i < idx[1]; ++i) out.push_back(item[i]);
    return out;
}

// The text html, js and urlquery escape: a lone string as it is, else fmt.Sprint's.
std::string escape_arg(const std::vector<json>& a) {
    if (a.size() == 1 && a[0].is_string()) return a[0].get<std::string>();
    return sprint(a, false);
}

// Go's template.HTMLEscapeString.
std::string html_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '"':
                out += "&#34;";
                break;
            case '\'':
                out += "&#39;";
                break;
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '\0':
                out += "\uFFFD";
                break;
            default:
                out += c;
        }
    }
    return out;
}

// One UTF-8 sequence at s[i]: the code point and its length (an invalid byte is U+FFFD, 1).
std::pair<char32_t, size_t> decode_utf8(std::string_view s, size_t i) {
    auto b = static_cast<unsigned char>(s[i]);
    size_t n = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
    if (n == 1 || i + n > s.size()) return {b < 0x80 ? b : 0xFFFD, 1};
    char32_t r = b & (0x7F >> n);
    for (size_t k = 1; k < n; ++k) {
        auto c = static_cast<unsigned char>(s[i + k]);
        if ((c & 0xC0) != 0x80) return {0xFFFD, 1};
        r = (r << 6) | (c & 0x3F);
    }
    return {r, n};
}

// Go's unicode.IsPrint outside ASCII, for the code points a template meets: false for C1
// controls, spaces other than U+0020, line and paragraph separators, format characters,
// private use, surrogates and the noncharacters U+FFFE/U+FFFF.
bool is_print(char32_t r) {
    if (r >= 0x80 && r <= 0x9F) return false;
    if (r == 0xA0 || r == 0xAD || r == 0x1680 || (r >= 0x2000 && r <= 0x200F) ||
        (r >= 0x2028 && r <= 0x202F) || (r >= 0x205F && r <= 0x2064) ||
        (r >= 0x2066 && r <= 0x206F) || r == 0x3000 || r == 0xFEFF ||
        (r >= 0xFFF9 && r <= 0xFFFB) || r == 0xFFFE || r == 0xFFFF)
        return false;
    if ((r >= 0x600 && r <= 0x605) || r == 0x61C || r == 0x6DD || r == 0x70F || r == 0x180E)
        return false;
    if ((r >= 0xD800 && r <= 0xF8FF) || (r >= 0xF0000 && r <= 0x10FFFF)) return false;
    return r <= 0x10FFFF;
}

// Go's template.JSEscapeString.
std::string js_escape(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            auto [r, n] = decode_utf8(s, i);
            if (is_print(r)) {
                out.append(s.substr(i, n));
            } else {
                out += fmt::format("\\u{:04X}", static_cast<uint32_t>(r));
            }
            i += n;
            continue;
        }
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '\'':
                out += "\\'";
                break;
            case '"':
                out += "\\\"";
                break;
            case '<':
            case '>':
            case '&':
            case '=':
                out += fmt::format("\\u{:04X}", c);
                break;
            default:
                if (c < ' ') {
                    out += fmt::format("\\u{:04X}", c);
                } else {
                    out += static_cast<char>(c);
                }
        }
        ++i;
    }
    return out;
}

// Go's url.QueryEscape.
std::string query_escape(std::string_view s) {
    std::string out;
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
            out += ch;
        } else if (c == ' ') {
            out += '+';
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

json split(const std::string& s, const std::string& sep) {
    json out = json::array();
    if (sep.empty()) {
        for (char c : s) out.push_back(std::string(1, c));
        return out;
    }
    size_t pos = 0;
    for (;;) {
        size_t at = s.find(sep, pos);
        out.push_back(s.substr(pos, at == std::string::npos ? at : at - pos));
        if (at == std::string::npos) return out;
        pos = at + sep.size();
    }
}

std::string join(const json& list, const std::string& sep) {
    if (!list.is_array())
        throw FuncError(
            fmt::format("wrong type for value; expected []string; got {}", go_type(list)));
    std::string out;
    for (size_t i = 0; i < list.size(); ++i) out += (i ? sep : "") + want_string(list[i]);
    return out;
}

}  // namespace

json call(const std::string& f, const std::vector<json>& a, bool header) {
    static const std::vector<std::string_view> docker_funcs = {
        "json", "join", "split", "lower", "upper", "title", "pad", "truncate"};
    if (header && std::find(docker_funcs.begin(), docker_funcs.end(), f) != docker_funcs.end())
        return a.empty() ? json("") : a[0];
    if (f == "not") {
        want_args(f, a, 1);
        return !truth(a[0]);
    }
    if (f == "len") {
        want_args(f, a, 1);
        if (a[0].is_string()) return a[0].get_ref<const std::string&>().size();
        if (a[0].is_array() || a[0].is_object()) return a[0].size();
        throw FuncError(fmt::format("len of type {}", go_type(a[0])));
    }
    if (f == "index") return index(a);
    if (f == "slice") return slice(a);
    if (f == "html") return html_escape(escape_arg(a));
    if (f == "js") return js_escape(escape_arg(a));
    if (f == "urlquery") return query_escape(escape_arg(a));
    if (f == "call") {
        // template data is JSON: it never holds a function to call
        if (a.empty()) throw FuncError("wrong number of args for call: want at least 1 got 0");
        if (a[0].is_null()) throw FuncError("call of nil");
        throw FuncError(fmt::format("non-function of type {}", go_type(a[0])));
    }
    if (f == "print") return sprint(a, false);
    if (f == "println") return sprint(a, true);
    if (f == "printf") {
        if (a.empty()) throw FuncError("wrong number of args for printf: want at least 1 got 0");
        return sprintf(want_string(a[0]), a);
    }
    if (f == "eq" || f == "ne") {
        if (a.size() < 2) throw FuncError(fmt::format("missing argument for comparison"));
        bool eq = false;
        for (size_t i = 1; i < a.size() && !eq; ++i) eq = compare(a[0], a[i], false) == 0;
        return f == "eq" ? eq : !eq;
    }
    if (f == "lt" || f == "le" || f == "gt" || f == "ge") {
        want_args(f, a, 2);
        int c = compare(a[0], a[1], true);
        return f == "lt" ? c < 0 : f == "le" ? c <= 0 : f == "gt" ? c > 0 : c >= 0;
    }
    if (f == "json") {
        want_args(f, a, 1);
        return to_json(a[0]);
    }
    if (f == "join") {
        want_args(f, a, 2);
        return join(a[0], want_string(a[1]));
    }
    if (f == "split") {
        want_args(f, a, 2);
        return split(want_string(a[0]), want_string(a[1]));
    }
    if (f == "lower" || f == "upper" || f == "title") {
        want_args(f, a, 1);
        const std::string& s = want_string(a[0]);
        return f == "lower"   ? map_chars(s, ::tolower)
               : f == "upper" ? map_chars(s, ::toupper)
                              : title(s);
    }
    if (f == "pad") {  // docker: spaces before and after a non-empty string
        want_args(f, a, 3);
        const std::string& s = want_string(a[0]);
        if (s.empty()) return s;
        return std::string(static_cast<size_t>(std::max<int64_t>(0, want_int(a[1]))), ' ') + s +
               std::string(static_cast<size_t>(std::max<int64_t>(0, want_int(a[2]))), ' ');
    }
    if (f == "truncate") {  // docker: the first n bytes
        want_args(f, a, 2);
        const std::string& s = want_string(a[0]);
        int64_t n = std::max<int64_t>(0, want_int(a[1]));
        return static_cast<size_t>(n) < s.size() ? s.substr(0, static_cast<size_t>(n)) : s;
    }
    throw FuncError(fmt::format("function \"{}\" not defined", f));
}

namespace {
size_t display_width(std::string_view s) {
    // runes, as Go's tabwriter counts them
    return static_cast<size_t>(std::count_if(
        s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

struct TabWriter {
    std::vector<std::vector<std::string>> lines;  // cells; the last one is not tab-terminated
    std::vector<size_t> widths;
    std::string out;
    static constexpr size_t minwidth = 10, padding = 3;

    void write_lines(size_t from, size_t to) {
        for (size_t l = from; l < to; ++l) {
            const auto& line = lines[l];
            for (size_t j = 0; j < line.size(); ++j) {
                out += line[j];
                if (j < widths.size() && j + 1 < line.size())
                    out.append(
                        widths[j] > display_width(line[j]) ? widths[j] - display_width(line[j]) : 0,
                        ' ');
            }
            if (l + 1 < lines.size()) out += '\n';
        }
    }

    // Go's tabwriter.format: a column block is a run of lines that have a cell in it.
    void format(size_t line0, size_t line1) {
        size_t column = widths.size();
        for (size_t t = line0; t < line1; ++t) {
            if (column + 1 >= lines[t].size()) continue;
            write_lines(line0, t);
            line0 = t;
            size_t width = minwidth;
            for (; t < line1; ++t) {
                if (column + 1 >= lines[t].size()) break;
                width = std::max(width, display_width(lines[t][column]) + padding);
            }
            widths.push_back(width);
            format(line0, t);
            widths.pop_back();
            line0 = t;  // line t has no cell in this column: the loop's ++t passes it
        }
        write_lines(line0, line1);
    }
};
}  // namespace

std::string tabwrite(std::string_view text) {
    TabWriter w;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t nl = text.find('\n', pos);
        std::string_view line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
        std::vector<std::string> cells;
        size_t c = 0;
        for (;;) {
            size_t tab = line.find('\t', c);
            cells.emplace_back(line.substr(c, tab == std::string_view::npos ? tab : tab - c));
            if (tab == std::string_view::npos) break;
            c = tab + 1;
        }
        w.lines.push_back(std::move(cells));
        if (nl == std::string_view::npos) break;
        pos = nl + 1;
    }
    w.format(0, w.lines.size());
    return w.out;
}

}  // namespace husk::cli::tmpl
