// The Dockerfile syntax (a pure function of the text, unit-tested): parser directives
// (`# escape=`, `# syntax=`), comments, line continuations, instructions with their
// line numbers, `--flag=value` options, JSON exec forms and heredocs (`<<EOF`, `<<-EOF`,
// `<<"EOF"`); and the shell-word rules the builder applies to arguments: quotes,
// escapes and `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR:+word}`.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace husk::build {

struct Heredoc {
    std::string word;     // as written: "<<-'EOF'"
    std::string name;     // the delimiter, unquoted ("EOF"); COPY's file name
    std::string content;  // the lines between, each ending in '\n' (<<-: leading tabs gone)
    bool expand = true;   // false when the delimiter is quoted (<<"EOF", <<'EOF', <<E"O"F)
};

// BuildKit's rule: a word (as `raw_words` splits a line) of the form [N]<<[-]DELIM is a
// heredoc; nullopt for any other word.
std::optional<Heredoc> heredoc_word(std::string_view word);
// The words of `s` split at unquoted whitespace, quotes and escapes kept as written.
std::vector<std::string> raw_words(std::string_view s, char escape = '\\');

struct Instruction {
    std::string keyword;             // upper case: "RUN"
    std::vector<std::string> flags;  // leading "--name=value" options, as written
    std::string args;                // the rest, continuations joined
    bool exec_form = false;          // a JSON array of strings ...
    std::vector<std::string> argv;   // ... parsed here
    std::vector<Heredoc> heredocs;
    int line = 0;          // where the instruction starts (1-based)
    std::string original;  // "RUN echo hi" as shown in the build's output

    // The value of flag --name (nullopt when absent; "" for a bare --name).
    std::optional<std::string> flag(std::string_view name) const;
};

struct Dockerfile {
    char escape = '\\';
    std::string syntax;  // `# syntax=` (noted, not followed)
    std::vector<Instruction> instructions;
};

// Throws husk::Error naming the line: "Dockerfile:3: unknown instruction: FOO".
Dockerfile parse_dockerfile(std::string_view text, std::string_view name = "Dockerfile");

using Lookup = std::function<std::optional<std::string>(std::string_view name)>;

// The words of `s` as the builder's shell lexer splits them: whitespace separates words,
// quotes group ('...' literal, "..." with substitution), the escape character escapes,
// variables are substituted. Throws on an unterminated quote or `${`.
std::vector<std::string> shell_words(std::string_view s, const Lookup& lookup, char escape = '\\');
// The same rules, but `s` stays one word (whitespace kept).
std::string expand_word(std::string_view s, const Lookup& lookup, char escape = '\\');
// Only `$VAR` substitution (for heredoc bodies): quotes stay as they are.
std::string expand_vars(std::string_view s, const Lookup& lookup, char escape = '\\');

// KEY=VALUE pairs (ENV, LABEL, ARG): "a=1 b=\"x y\"", or the legacy "KEY rest of line"
// form when `legacy_ok` and the first word has no '='.
std::vector<std::pair<std::string, std::string>> key_values(std::string_view s,
                                                            const Lookup& lookup, char escape,
                                                            bool legacy_ok);

}  // namespace husk::build
