// Inside the template library: the parsed tree of a template, and the parser that
// makes it (parse.cpp). The executor (template.cpp) walks it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace husk::cli::tmpl {

// Throws husk::Error "template: :LINE:COL: message" for a byte offset of the source.
[[noreturn]] void fail_at(std::string_view src, size_t pos, std::string_view msg);

struct Pipeline;

// One term of a command. (Its moves are noexcept; clang-tidy follows nlohmann::json's
// invariant assertion in the move constructor and thinks otherwise.)
// NOLINTNEXTLINE(bugprone-exception-escape)
struct Operand {
    enum class Kind : uint8_t { field, dot, var, literal, func, paren } kind = Kind::dot;
    std::string name;                // function or variable name
    std::vector<std::string> chain;  // .A.B applied to the term
    nlohmann::json literal;
    std::unique_ptr<Pipeline> sub;
    size_t pos = 0;
    std::string source;  // as written, for error messages
};

struct Command {
    std::vector<Operand> args;
    size_t pos = 0;
};

struct Pipeline {
    std::vector<std::string> vars;  // $k, $v
    bool declare = false, assign = false;
    std::vector<Command> cmds;
    size_t pos = 0;
};

struct Node;
struct ListNode {
    std::vector<Node> nodes;
};

struct Node {
    enum class Kind : uint8_t {
        text,
        action,
        if_,
        range,
        with,
        template_,  // {{template "name" P}}: text holds the name; no pipeline: nil dot
        break_,
        continue_,
    } kind = Kind::text;
    std::string text;
    Pipeline pipe;
    std::unique_ptr<ListNode> list, else_list;
    size_t pos = 0;
};

// A parsed template: the main list and the templates {{define}} and {{block}} name.
struct Tree {
    std::unique_ptr<ListNode> root;
    std::map<std::string, std::unique_ptr<ListNode>, std::less<>> defs;
};

// Parses a template's source into its tree; errors name the position.
Tree parse(std::string_view src);

}  // namespace husk::cli::tmpl
