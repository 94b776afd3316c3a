// The parser of templates: the text is cut into text and {{actions}} (trim markers
// applied), each action is lexed into tokens, and a tree of text, action, if, range,
// with, template, break and continue nodes is built, with the templates define and block
// name beside it (tmpl_tree.h).
#include <algorithm>
#include <cctype>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "cli/template/tmpl_tree.h"
#include "sys/error.h"

namespace husk::cli::tmpl {

using nlohmann::json;

// "template: :LINE:COL: message" for a byte offset of the template's source.
[[noreturn]] void fail_at(std::string_view src, size_t pos, std::string_view msg) {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos && i < src.size(); ++i) {
        if (src[i] == '\n') {
            ++line;
            col = 1;
        } else {
            ++col;
        }
    }
    throw Error(fmt::format("template: :{}:{}: {}", line, col, msg));
}

namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
bool is_ident_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// --- lexing an action ---

enum class Tok : uint8_t {
    field,    // .Name
    dot,      // .
    var,      // $ or $name
    ident,    // a function or keyword
    literal,  // a string, number, true, false or nil
    pipe,
    lparen,
    rparen,
    declare,  // :=
    assign,   // =
    comma,
};

struct Token {
    Tok kind;
    std::string text;  // name (without '.' for fields), or the source of a literal
    json value;        // literal's value
    size_t pos;        // offset in the template source
    bool space_before;
    size_t end = 0;  // offset just past the token
};

// Reads a quoted string starting at s[i] ('"' or '`'); returns the value, advances i.
std::string read_string(std::string_view src, std::string_view s, size_t& i, size_t base) {
    char q = s[i];
    size_t start = i++;
    std::string v;
    while (i < s.size() && s[i] != q) {
        if (q == '"' && s[i] == '\\' && i + 1 < s.size()) {
            char e = s[++i];
            switch (e) {
                case 'n':
                    v += '\n';
                    break;
                case 't':
                    v += '\t';
                    break;
                case 'r':
                    v += '\r';
                    break;
                case '\\':
                    v += '\\';
                    break;
                case '"':
                    v += '"';
                    break;
                default:
                    fail_at(src, base + i, fmt::format("unknown escape sequence \\{}", e));
            }
            ++i;
            continue;
        }
        if (q == '"' && s[i] == '\n') fail_at(src, base + start, "unterminated quoted string");
        v += s[i++];
    }
    if (i >= s.size()) fail_at(src, base + start, "unterminated quoted string");
    ++i;
    return v;
}

std::vector<Token> lex(std::string_view src, std::string_view s, size_t base) {
    std::vector<Token> out;
    size_t i = 0;
    bool space = true;
    while (i < s.size()) {
        char c = s[i];
        if (is_space(c)) {
            space = true;
            ++i;
            continue;
        }
        size_t at = base + i;
        Token t{Tok::pipe, {}, {}, at, space};
        space = false;
        if (c == '|') {
            ++i;
        } else if (c == '(') {
            t.kind = Tok::lparen;
            ++i;
        } else if (c == ')') {
            t.kind = Tok::rparen;
            ++i;
        } else if (c == ',') {
            t.kind = Tok::comma;
            ++i;
        } else if (c == ':' && i + 1 < s.size() && s[i + 1] == '=') {
            t.kind = Tok::declare;
            i += 2;
        } else if (c == '=') {
            t.kind = Tok::assign;
            ++i;
        } else if (c == '"' || c == '`') {
            t.kind = Tok::literal;
            t.value = read_string(src, s, i, base);
        } else if (c == '.' && (i + 1 >= s.size() || !is_ident_char(s[i + 1]))) {
            t.kind = Tok::dot;
            ++i;
        } else if (c == '.' || c == '$') {
            t.kind = c == '.' ? Tok::field : Tok::var;
            size_t j = i + 1;
            while (j < s.size() && is_ident_char(s[j])) ++j;
            t.text = std::string(s.substr(i + (c == '.' ? 1 : 0), j - i - (c == '.' ? 1 : 0)));
            i = j;
        } else if (std::isdigit(static_cast<unsigned char>(c)) != 0 ||
                   ((c == '-' || c == '+') && i + 1 < s.size() &&
                    std::isdigit(static_cast<unsigned char>(s[i + 1])) != 0)) {
            size_t j = i + 1;
            while (j < s.size() && (is_ident_char(s[j]) || s[j] == '.')) ++j;
            t.kind = Tok::literal;
            t.text = std::string(s.substr(i, j - i));
            try {
                size_t used = 0;
                if (t.text.find_first_of(".eE") == std::string::npos) {
                    t.value = std::stoll(t.text, &used, 0);
                } else {
                    t.value = std::stod(t.text, &used);
                }
                if (used != t.text.size()) throw std::invalid_argument(t.text);
            } catch (const std::exception&) {
                fail_at(src, at, fmt::format("bad number syntax: \"{}\"", t.text));
            }
            i = j;
        } else if (is_ident_char(c)) {
            size_t j = i;
            while (j < s.size() && is_ident_char(s[j])) ++j;
            t.text = std::string(s.substr(i, j - i));
            i = j;
            t.kind = Tok::ident;
            if (t.text == "true" || t.text == "false") {
                t.kind = Tok::literal;
                t.value = t.text == "true";
            } else if (t.text == "nil") {
                t.kind = Tok::literal;
            }
        } else {
            fail_at(src, at, fmt::format("unexpected \"{}\" in command", c));
        }
        t.end = base + i;
        out.push_back(std::move(t));
    }
    return out;
}

const std::vector<std::string_view>& function_names() {
    static const std::vector<std::string_view> names = {
        "and",   "or",    "not", "len",      "index", "print", "printf", "println",  "eq",
        "ne",    "lt",    "le",  "gt",       "ge",    "json",  "join",   "split",    "lower",
        "upper", "title", "pad", "truncate", "slice", "html",  "js",     "urlquery", "call"};
    return names;
}

// --- parsing ---

// One piece of the template: text, or the inside of an action with its offset.
struct Piece {
    bool action;
    std::string text;
    size_t pos;
};

std::vector<Piece> cut(std::string_view src) {
    std::vector<Piece> out;
    size_t i = 0;
    bool trim_next = false;
    while (i <= src.size()) {
        size_t open = src.find("{{", i);
        std::string text(src.substr(i, open == std::string_view::npos ? open : open - i));
        if (trim_next)
            text.erase(0, std::find_if_not(text.begin(), text.end(), is_space) - text.begin());
        if (open == std::string_view::npos) {
            if (!text.empty()) out.push_back({false, text, i});
            break;
        }
        size_t body = open + 2;
        if (body + 1 < src.size() && src[body] == '-' && is_space(src[body + 1])) {
            while (!text.empty() && is_space(text.back())) text.pop_back();
            body += 2;
        }
        if (!text.empty()) out.push_back({false, text, i});
        // the end of the action: "}}" outside quotes
        size_t j = body;
        size_t close = std::string_view::npos;
        while (j < src.size()) {
            char c = src[j];
            if (c == '"' || c == '`') {
                size_t k = j + 1;
                while (k < src.size() && src[k] != c) k += (c == '"' && src[k] == '\\') ? 2 : 1;
                j = k + 1;
                continue;
            }
            if (src.substr(j, 2) == "}}") {
                close = j;
                break;
            }
            ++j;
        }
        if (close == std::string_view::npos) fail_at(src, open, "unclosed action");
        size_t end = close;
        trim_next = false;
        if (end >= body + 2 && src[end - 1] == '-' && is_space(src[end - 2])) {
            trim_next = true;
            end -= 2;
        }
        std::string_view inner = src.substr(body, end - body);
        size_t first = inner.find_first_not_of(" \t\r\n");
        if (first != std::string_view::npos && inner.substr(first).starts_with("/*")) {
            size_t last = inner.find_last_not_of(" \t\r\n");
            if (last < first + 3 || inner.substr(last - 1, 2) != "*/")
                fail_at(src, body, "unclosed comment");
        } else {
            out.push_back({true, std::string(inner), body});
        }
        i = close + 2;
    }
    return out;
}

class Parser {
  public:
    Parser(std::string_view src, std::vector<Piece> pieces)
        : src_(src), pieces_(std::move(pieces)) {}

    Tree parse_all() {
        Tree tree;
        tree.root = parse_list();
        if (at_ < pieces_.size())
            fail_at(src_, pieces_[at_].pos, fmt::format("unexpected {{{{{}}}}}", stop_word_));
        tree.defs = std::move(defs_);
        return tree;
    }

  private:
    std::string_view src_;
    std::vector<Piece> pieces_;
    size_t at_ = 0;
    std::string stop_word_;  // "end" or "else" that ended the last list
    std::vector<Token> toks_;
    size_t t_ = 0;
    std::map<std::string, std::unique_ptr<ListNode>, std::less<>> defs_;
    int depth_ = 0;        // blocks open around the list being parsed
    int range_depth_ = 0;  // of which range blocks ({{break}} and {{continue}} need one)

    // Parses nodes until {{end}} or {{else}} (left in stop_word_, piece consumed).
    std::unique_ptr<ListNode> parse_list() {
        auto list = std::make_unique<ListNode>();
        stop_word_.clear();
        while (at_ < pieces_.size()) {
            const Piece& p = pieces_[at_];
            if (!p.action) {
                list->nodes.push_back(Node{Node::Kind::text, p.text, {}, nullptr, nullptr, p.pos});
                ++at_;
                continue;
            }
            toks_ = lex(src_, p.text, p.pos);
            t_ = 0;
            if (toks_.empty()) fail_at(src_, p.pos, "missing value for command");
            const Token& first = toks_[0];
            if (first.kind == Tok::ident && (first.text == "end" || first.text == "else")) {
                stop_word_ = first.text;
                return list;  // the caller looks at the piece
            }
            ++at_;
            if (first.kind == Tok::ident &&
                (first.text == "if" || first.text == "range" || first.text == "with")) {
                t_ = 1;
                list->nodes.push_back(parse_block(first.text, first.pos));
                continue;
            }
            if (first.kind == Tok::ident && first.text == "define") {
                if (depth_ > 0) fail_at(src_, first.pos, "unexpected <define> in command");
                t_ = 1;
                std::string name = template_name("define");
                if (more()) fail_at(src_, toks_[t_].pos, "unexpected token in define clause");
                define(name, first.pos, parse_body("define"));
                continue;
            }
            if (first.kind == Tok::ident && (first.text == "template" || first.text == "block")) {
                t_ = 1;
                Node n{Node::Kind::template_,
                       template_name(first.text),
                       {},
                       nullptr,
                       nullptr,
                       first.pos};
                if (more()) n.pipe = parse_pipeline(false);
                if (first.text == "block") {
                    if (n.pipe.cmds.empty()) fail_at(src_, first.pos, "missing value for block");
                    define(n.text, first.pos, parse_body("block"));
                }
                list->nodes.push_back(std::move(n));
                continue;
            }
            if (first.kind == Tok::ident && (first.text == "break" || first.text == "continue")) {
                if (range_depth_ == 0)
                    fail_at(src_, first.pos,
                            fmt::format("{{{{{}}}}} outside {{{{range}}}}", first.text));
                if (toks_.size() > 1)
                    fail_at(src_, toks_[1].pos, fmt::format("unexpected token in {}", first.text));
                list->nodes.push_back(
                    Node{first.text == "break" ? Node::Kind::break_ : Node::Kind::continue_,
                         {},
                         {},
                         nullptr,
                         nullptr,
                         first.pos});
                continue;
            }
            Node n{Node::Kind::action, {}, parse_pipeline(true), nullptr, nullptr, p.pos};
            list->nodes.push_back(std::move(n));
        }
        return list;
    }

    // The quoted name after define/template/block.
    std::string template_name(const std::string& word) {
        if (!more() || toks_[t_].kind != Tok::literal || !toks_[t_].value.is_string())
            fail_at(src_, more() ? toks_[t_].pos : pieces_[at_ - 1].pos,
                    fmt::format("unexpected token in {} clause", word));
        return toks_[t_++].value.get<std::string>();
    }

    // The list of a define or block, up to its {{end}} ({{else}} has no place there).
    std::unique_ptr<ListNode> parse_body(const std::string& word) {
        ++depth_;
        auto body = parse_list();
        --depth_;
        if (at_ >= pieces_.size()) fail_at(src_, src_.size(), "unexpected EOF");
        if (stop_word_ != "end")
            fail_at(src_, pieces_[at_].pos, fmt::format("unexpected {{{{else}}}} in {}", word));
        if (toks_.size() > 1) fail_at(src_, toks_[1].pos, "unexpected token in end");
        ++at_;
        return body;
    }

    // Go's rule: a template with a body replaces one that is empty (only spaces), and two
    // bodies for one name are an error.
    void define(const std::string& name, size_t pos, std::unique_ptr<ListNode> body) {
        auto empty = [](const ListNode& l) {
            return std::all_of(l.nodes.begin(), l.nodes.end(), [](const Node& n) {
                return n.kind == Node::Kind::text &&
                       std::all_of(n.text.begin(), n.text.end(), is_space);
            });
        };
        auto it = defs_.find(name);
        if (it != defs_.end() && !empty(*it->second)) {
            if (!empty(*body))
                fail_at(src_, pos,
                        fmt::format("template: multiple definition of template \"{}\"", name));
            return;
        }
        defs_[name] = std::move(body);
    }

    // After "if"/"range"/"with" (t_ past the keyword): pipeline, list, else, end.
    Node parse_block(const std::string& word, size_t pos) {
        Node n;
        n.kind = word == "if"      ? Node::Kind::if_
                 : word == "range" ? Node::Kind::range
                                   : Node::Kind::with;
        n.pos = pos;
        n.pipe = parse_pipeline(true);
        if (n.pipe.cmds.empty()) fail_at(src_, pos, fmt::format("missing value for {}", word));
        ++depth_;
        if (n.kind == Node::Kind::range) ++range_depth_;
        n.list = parse_list();
        if (n.kind == Node::Kind::range) --range_depth_;
        --depth_;
        if (at_ >= pieces_.size()) fail_at(src_, src_.size(), "unexpected EOF");
        ++at_;  // the {{end}} or {{else ...}}
        if (stop_word_ == "else") {
            // {{else if P}} / {{else with P}}: a block of its own that ends with our {{end}}
            if (toks_.size() > 1 && toks_[1].kind == Tok::ident &&
                (toks_[1].text == "if" || toks_[1].text == "with")) {
                t_ = 2;
                std::string inner_word = toks_[1].text;
                size_t inner_pos = toks_[1].pos;
                n.else_list = std::make_unique<ListNode>();
                n.else_list->nodes.push_back(parse_block(inner_word, inner_pos));
                return n;
            }
            if (toks_.size() > 1) fail_at(src_, toks_[1].pos, "unexpected token after else");
            ++depth_;
            n.else_list = parse_list();
            --depth_;
            if (at_ >= pieces_.size()) fail_at(src_, src_.size(), "unexpected EOF");
            if (stop_word_ != "end")
                fail_at(src_, pieces_[at_].pos, "expected end; found {{else}}");
            ++at_;
        }
        if (toks_.size() > 1 && stop_word_ == "end")
            fail_at(src_, toks_[1].pos, "unexpected token in end");
        return n;
    }

    bool more() const { return t_ < toks_.size(); }

    Pipeline parse_pipeline(bool allow_decl, bool in_paren = false) {
        Pipeline p;
        p.pos = more() ? toks_[t_].pos : 0;
        if (allow_decl && more() && toks_[t_].kind == Tok::var) {
            size_t save = t_;
            std::vector<std::string> vars{toks_[t_].text};
            size_t k = t_ + 1;
            if (k + 1 < toks_.size() && toks_[k].kind == Tok::comma &&
                toks_[k + 1].kind == Tok::var) {
                vars.push_back(toks_[k + 1].text);
                k += 2;
            }
            if (k < toks_.size() &&
                (toks_[k].kind == Tok::declare || toks_[k].kind == Tok::assign)) {
                p.vars = vars;
                p.declare = toks_[k].kind == Tok::declare;
                p.assign = !p.declare;
                t_ = k + 1;
            } else {
                t_ = save;
            }
        }
        for (;;) {
            Command c;
            c.pos = more() ? toks_[t_].pos : p.pos;
            while (more() && toks_[t_].kind != Tok::pipe && toks_[t_].kind != Tok::rparen)
                c.args.push_back(parse_operand());
            if (c.args.empty()) fail_at(src_, c.pos, "missing value for command");
            p.cmds.push_back(std::move(c));
            if (more() && toks_[t_].kind == Tok::pipe) {
                ++t_;
                continue;
            }
            if (more() && toks_[t_].kind == Tok::rparen && !in_paren)
                fail_at(src_, toks_[t_].pos, "unexpected right paren");
            break;
        }
        return p;
    }

    Operand parse_operand() {
        const Token& t = toks_[t_++];
        Operand o;
        o.pos = t.pos;
        switch (t.kind) {
            case Tok::field:
                o.kind = Operand::Kind::field;
                o.chain.push_back(t.text);
                break;
            case Tok::dot:
                o.kind = Operand::Kind::dot;
                break;
            case Tok::var:
                o.kind = Operand::Kind::var;
                o.name = t.text;
                break;
            case Tok::literal:
                o.kind = Operand::Kind::literal;
                o.literal = t.value;
                break;
            case Tok::ident:
                if (std::find(function_names().begin(), function_names().end(), t.text) ==
                    function_names().end())
                    fail_at(src_, t.pos, fmt::format("function \"{}\" not defined", t.text));
                o.kind = Operand::Kind::func;
                o.name = t.text;
                break;
            case Tok::lparen: {
                o.kind = Operand::Kind::paren;
                o.sub = std::make_unique<Pipeline>(parse_pipeline(false, true));
                if (!more() || toks_[t_].kind != Tok::rparen)
                    fail_at(src_, t.pos, "unclosed left paren");
                ++t_;
                break;
            }
            default:
                fail_at(src_, t.pos, "unexpected token in operand");
        }
        // .A.B written right after the term
        if (o.kind != Operand::Kind::func && o.kind != Operand::Kind::literal)
            while (more() && toks_[t_].kind == Tok::field && !toks_[t_].space_before)
                o.chain.push_back(toks_[t_++].text);
        o.source = std::string(src_.substr(o.pos, toks_[t_ - 1].end - o.pos));
        return o;
    }
};

}  // namespace

Tree parse(std::string_view src) {
    return Parser(src, cut(src)).parse_all();
}

}  // namespace husk::cli::tmpl
