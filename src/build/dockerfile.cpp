#include "build/dockerfile.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sys/error.h"
#include "sys/text.h"

namespace husk::build {
namespace {

constexpr std::array<std::string_view, 18> kKeywords = {
    "ADD",    "ARG",   "CMD",         "COPY",  "ENTRYPOINT", "ENV",
    "EXPOSE", "FROM",  "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD",
    "RUN",    "SHELL", "STOPSIGNAL",  "USER",  "VOLUME",     "WORKDIR"};

bool known(std::string_view k) {
    return std::find(kKeywords.begin(), kKeywords.end(), k) != kKeywords.end();
}

bool takes_flags(std::string_view k) {
    return k == "RUN" || k == "COPY" || k == "ADD" || k == "FROM" || k == "HEALTHCHECK";
}

bool may_be_exec(std::string_view k) {
    return k == "RUN" || k == "CMD" || k == "ENTRYPOINT" || k == "SHELL" || k == "COPY" ||
           k == "ADD" || k == "VOLUME";
}

bool takes_heredocs(std::string_view k) {
    return k == "RUN" || k == "COPY" || k == "ADD";
}

std::string_view ltrim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    return s;
}

std::string_view rtrim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

bool is_comment_or_blank(std::string_view line) {
    auto t = ltrim(line);
    return t.empty() || t.front() == '#';
}

bool name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// The shell-word lexer: quotes, the escape character, variables; `split` separates words
// at unquoted whitespace, `quotes` (off for heredoc bodies) makes quotes special.
class Lexer {
  public:
    Lexer(std::string_view s, const Lookup& lookup, char escape, bool split, bool quotes)
        : s_(s), lookup_(lookup), esc_(escape), split_(split), quotes_(quotes) {}

    std::vector<std::string> run() {
        std::vector<std::string> words;
        std::string cur;
        bool in_word = false;
        while (i_ < s_.size()) {
            char c = s_[i_];
            if (split_ && std::isspace(static_cast<unsigned char>(c))) {
                if (in_word) words.push_back(std::move(cur));
                cur.clear();
                in_word = false;
                ++i_;
                continue;
            }
            in_word = true;
            if (c == esc_ && quotes_) {
                if (i_ + 1 < s_.size()) cur += s_[i_ + 1];
                i_ += 2;
            } else if (c == esc_ && i_ + 1 < s_.size() && s_[i_ + 1] == '$') {
                cur += '$';
                i_ += 2;
            } else if (c == '\'' && quotes_) {
                size_t end = s_.find('\'', i_ + 1);
                if (end == std::string_view::npos)
                    throw Error(
                        fmt::format("unexpected end of statement while looking for "
                                    "matching single-quote in \"{}\"",
                                    s_));
                cur += s_.substr(i_ + 1, end - i_ - 1);
                i_ = end + 1;
            } else if (c == '"' && quotes_) {
                ++i_;
                double_quoted(cur);
            } else if (c == '$') {
                cur += variable();
            } else {
                cur += c;
                ++i_;
            }
        }
        if (in_word) words.push_back(std::move(cur));
        return words;
    }

  private:
    void double_quoted(std::string& cur) {
        while (true) {
            if (i_ >= s_.size())
                throw Error(fmt::format(
                    "unexpected end of statement while looking for matching double-quote in \"{}\"",
                    s_));
            char c = s_[i_];
            if (c == '"') {
                ++i_;
                return;
            }
            if (c == esc_ && i_ + 1 < s_.size() &&
                (s_[i_ + 1] == '"' || s_[i_ + 1] == '$' || s_[i_ + 1] == esc_)) {
                cur += s_[i_ + 1];
                i_ += 2;
            } else if (c == '$') {
                cur += variable();
            } else {
                cur += c;
                ++i_;
            }
        }
    }

    // At a '$': the value it stands for ('$' itself when no name follows).
    std::string variable() {
        ++i_;
        if (i_ < s_.size() && s_[i_] == '{') {
            size_t start = ++i_;
            while (i_ < s_.size() && name_char(s_[i_])) ++i_;
            std::string name(s_.substr(start, i_ - start));
            if (i_ >= s_.size()) throw Error(fmt::format("missing '}}' in \"{}\"", s_));
            if (name.empty()) throw Error(fmt::format("bad substitution in \"{}\"", s_));
            if (s_[i_] == '}') {
                ++i_;
                return lookup_(name).value_or("");
            }
            if (s_[i_] != ':' || i_ + 1 >= s_.size() || (s_[i_ + 1] != '-' && s_[i_ + 1] != '+'))
                throw Error(
                    fmt::format("unsupported modifier in \"{}\" (${{{}:-word}} and "
                                "${{{}:+word}} are)",
                                s_, name, name));
            char op = s_[i_ + 1];
            i_ += 2;
            size_t wstart = i_;
            int depth = 1;
            for (; i_ < s_.size(); ++i_) {
                if (s_[i_] == esc_) {
                    ++i_;
                    continue;
                }
                if (s_[i_] == '{') ++depth;
                if (s_[i_] == '}' && --depth == 0) break;
            }
            if (i_ >= s_.size()) throw Error(fmt::format("missing '}}' in \"{}\"", s_));
            std::string_view word = s_.substr(wstart, i_ - wstart);
            ++i_;
            auto v = lookup_(name);
            bool set = v && !v->empty();
            if (op == '-') return set ? *v : Lexer(word, lookup_, esc_, false, quotes_).one();
            return set ? Lexer(word, lookup_, esc_, false, quotes_).one() : std::string();
        }
        size_t start = i_;
        while (i_ < s_.size() && name_char(s_[i_])) ++i_;
        if (start == i_) return "$";
        return lookup_(s_.substr(start, i_ - start)).value_or("");
    }

    std::string one() {
        auto w = run();
        return w.empty() ? std::string() : w.front();
    }

    std::string_view s_;
    const Lookup& lookup_;
    char esc_;
    bool split_;
    bool quotes_;
    size_t i_ = 0;
};

struct Lines {
    std::vector<std::string_view> v;
    explicit Lines(std::string_view text) {
        size_t b = 0;
        while (b <= text.size()) {
            size_t e = text.find('\n', b);
            if (e == std::string_view::npos) e = text.size();
            std::string_view l = text.substr(b, e - b);
            if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
            v.push_back(l);
            if (e == text.size()) break;
            b = e + 1;
        }
    }
};

// `# name=value` at the top of the file.
bool directive(std::string_view line, Dockerfile& df, std::string_view file, int lineno) {
    static const std::regex re(R"(^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$)");
    std::string l(ltrim(line));
    std::smatch m;
    if (!std::regex_match(l, m, re)) return false;
    std::string name = m[1].str();
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value = m[2].str();
    if (name == "escape") {
        if (value != "\\" && value != "`")
            throw Error(fmt::format("{}:{}: invalid escape token '{}' does not match ` or \\", file,
                                    lineno, value));
        df.escape = value[0];
        return true;
    }
    if (name == "syntax") {
        df.syntax = value;
        return true;
    }
    return name == "check";  // buildkit's lint settings: nothing to do here
}

void parse_heredocs(Instruction& ins, const Lines& lines, size_t& next, std::string_view file) {
    for (auto& w : raw_words(ins.args)) {
        auto h = heredoc_word(w);
        if (!h) continue;
        bool strip = h->word.find("<<-") != std::string::npos;
        bool closed = false;
        while (next < lines.v.size()) {
            std::string_view l = lines.v[next++];
            if (strip)
                while (!l.empty() && l.front() == '\t') l.remove_prefix(1);
            if (l == h->name) {
                closed = true;
                break;
            }
            h->content += l;
            h->content += '\n';
        }
        if (!closed)
            throw Error(fmt::format("{}:{}: unterminated heredoc <<{}", file, ins.line, h->name));
        ins.heredocs.push_back(std::move(*h));
    }
}

}  // namespace

std::optional<std::string> Instruction::flag(std::string_view name) const {
    for (auto& f : flags) {
        std::string_view v(f);
        if (!v.starts_with("--")) continue;
        v.remove_prefix(2);
        if (v == name) return std::string();
        if (v.starts_with(name) && v.size() > name.size() && v[name.size()] == '=')
            return std::string(v.substr(name.size() + 1));
    }
    return std::nullopt;
}

Dockerfile parse_dockerfile(std::string_view text, std::string_view file) {
    Dockerfile df;
    Lines lines(text);
    size_t i = 0;
    for (; i < lines.v.size(); ++i)
        if (!directive(lines.v[i], df, file, static_cast<int>(i + 1))) break;
    while (i < lines.v.size()) {
        if (is_comment_or_blank(lines.v[i])) {
            ++i;
            continue;
        }
        Instruction ins;
        ins.line = static_cast<int>(i + 1);
        std::string joined;
        std::string_view cur = lines.v[i++];
        while (true) {
            std::string_view t = rtrim(cur);
            if (t.empty() || t.back() != df.escape) {
                joined += cur;
                break;
            }
            joined += t.substr(0, t.size() - 1);
            // comment lines (and empty ones) inside a continued instruction are dropped
            while (i < lines.v.size() && is_comment_or_blank(lines.v[i])) ++i;
            if (i >= lines.v.size()) break;
            cur = lines.v[i++];
        }
        std::string_view line = ltrim(joined);
        size_t sp = 0;
        while (sp < line.size() && !std::isspace(static_cast<unsigned char>(line[sp]))) ++sp;
        ins.keyword = sys::ascii_upper(line.substr(0, sp));
        if (!known(ins.keyword))
            throw Error(
                fmt::format("{}:{}: unknown instruction: {}", file, ins.line, line.substr(0, sp)));
        std::string_view rest = rtrim(ltrim(line.substr(sp)));
        if (takes_flags(ins.keyword)) {
            while (rest.starts_with("--")) {
                size_t e = 0;
                while (e < rest.size() && !std::isspace(static_cast<unsigned char>(rest[e]))) ++e;
                ins.flags.emplace_back(rest.substr(0, e));
                rest = ltrim(rest.substr(e));
            }
        }
        ins.args = std::string(rest);
        ins.original = ins.keyword;
        for (auto& f : ins.flags) ins.original += " " + f;
        if (!rest.empty()) ins.original += fmt::format(" {}", rest);
        if (may_be_exec(ins.keyword) && rest.starts_with('[')) {
            auto j = nlohmann::json::parse(rest, nullptr, false);
            if (j.is_array() &&
                std::all_of(j.begin(), j.end(), [](auto& e) { return e.is_string(); })) {
                ins.exec_form = true;
                for (auto& e : j) ins.argv.push_back(e.template get<std::string>());
            }
        }
        if (!ins.exec_form && takes_heredocs(ins.keyword)) parse_heredocs(ins, lines, i, file);
        // ONBUILD RUN <<EOF: the trigger's heredocs are the trigger's (kept with it in the image)
        if (ins.keyword == "ONBUILD") {
            std::string_view trig = ltrim(ins.args);
            size_t e = 0;
            while (e < trig.size() && !std::isspace(static_cast<unsigned char>(trig[e]))) ++e;
            if (takes_heredocs(sys::ascii_upper(trig.substr(0, e))) &&
                !ltrim(trig.substr(e)).starts_with('['))
                parse_heredocs(ins, lines, i, file);
        }
        if (ins.args.empty() && ins.keyword != "RUN" && ins.keyword != "CMD" &&
            ins.keyword != "ENTRYPOINT")
            throw Error(fmt::format("{}:{}: {} requires at least one argument", file, ins.line,
                                    ins.keyword));
        df.instructions.push_back(std::move(ins));
    }
    return df;
}

std::vector<std::string> raw_words(std::string_view s, char escape) {
    std::vector<std::string> words;
    std::string cur;
    bool in_word = false;
    char quote = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (quote == 0 && std::isspace(static_cast<unsigned char>(c))) {
            if (in_word) words.push_back(std::move(cur));
            cur.clear();
            in_word = false;
            continue;
        }
        in_word = true;
        cur += c;
        if (c == escape && quote != '\'' && i + 1 < s.size()) {
            cur += s[++i];
        } else if (quote == 0 && (c == '\'' || c == '"')) {
            quote = c;
        } else if (c == quote) {
            quote = 0;
        }
    }
    if (in_word) words.push_back(std::move(cur));
    return words;
}

std::optional<Heredoc> heredoc_word(std::string_view word) {
    static const std::regex re(R"(^(\d*)<<(-?)([^<]*)$)");
    std::match_results<std::string_view::const_iterator> m;
    if (!std::regex_match(word.begin(), word.end(), m, re)) return std::nullopt;
    std::string rest = m[3].str();
    if (rest.empty()) return std::nullopt;
    // the delimiter unquoted, nothing substituted: quoted parts and escapes as the shell
    // reads them
    std::string name;
    char quote = 0;
    for (size_t i = 0; i < rest.size(); ++i) {
        char c = rest[i];
        if (c == '\\' && quote != '\'' && i + 1 < rest.size()) {
            name += rest[++i];
        } else if (quote == 0 && (c == '\'' || c == '"')) {
            quote = c;
        } else if (c == quote) {
            quote = 0;
        } else {
            name += c;
        }
    }
    if (quote != 0 || name.empty()) return std::nullopt;
    auto quotes = [](std::string_view s) {
        return std::count(s.begin(), s.end(), '\'') + std::count(s.begin(), s.end(), '"');
    };
    Heredoc h;
    h.word = std::string(word);
    h.name = std::move(name);
    h.expand = quotes(h.name) == quotes(rest);
    return h;
}

std::vector<std::string> shell_words(std::string_view s, const Lookup& lookup, char escape) {
    return Lexer(s, lookup, escape, true, true).run();
}

std::string expand_word(std::string_view s, const Lookup& lookup, char escape) {
    auto w = Lexer(s, lookup, escape, false, true).run();
    return w.empty() ? std::string() : w.front();
}

std::string expand_vars(std::string_view s, const Lookup& lookup, char escape) {
    auto w = Lexer(s, lookup, escape, false, false).run();
    return w.empty() ? std::string() : w.front();
}

std::vector<std::pair<std::string, std::string>> key_values(std::string_view s,
                                                            const Lookup& lookup, char escape,
                                                            bool legacy_ok) {
    std::vector<std::pair<std::string, std::string>> out;
    s = ltrim(s);
    size_t sp = 0;
    while (sp < s.size() && !std::isspace(static_cast<unsigned char>(s[sp])) && s[sp] != '=') ++sp;
    if (legacy_ok && (sp >= s.size() || s[sp] != '=')) {
        std::string key(s.substr(0, sp));
        std::string value = expand_word(rtrim(ltrim(s.substr(sp))), lookup, escape);
        out.emplace_back(key, value);
        return out;
    }
    for (auto& w : shell_words(s, lookup, escape)) {
        size_t eq = w.find('=');
        if (eq == std::string::npos || eq == 0)
            throw Error(fmt::format("\"{}\": expected KEY=VALUE", w));
        out.emplace_back(w.substr(0, eq), w.substr(eq + 1));
    }
    return out;
}

}  // namespace husk::build
