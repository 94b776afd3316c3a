// The executor of template.h: walks the tree parse.cpp makes with the json value as
// dot; variables live on a stack popped at the end of each block.
#include "cli/template/template.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/template/tmpl_tree.h"
#include "cli/template/tmpl_value.h"
#include "sys/error.h"
#include "sys/text.h"

namespace husk::cli::tmpl {

using nlohmann::json;

namespace {

// --- execution ---

class Exec {
  public:
    Exec(std::string_view src, const Tree& tree, bool header)
        : src_(src), tree_(tree), header_(header) {}

    // The row's methods, callable on `row` (the top-level dot) only.
    void bind(const Methods* methods, const json* row, size_t index) {
        methods_ = methods;
        row_ = row;
        row_index_ = index;
    }

    std::string out;

    // Stops early after a {{break}} or {{continue}}, which the enclosing range takes.
    void run(const ListNode& list, const json& dot) {
        for (const Node& n : list.nodes) {
            node(n, dot);
            if (flow_ != Flow::normal) return;
        }
    }

    void push_var(std::string name, json v) { vars_.emplace_back(std::move(name), std::move(v)); }

  private:
    // Go's limit is 100000 nested template calls; a C++ stack is smaller.
    static constexpr int max_template_depth = 1000;
    enum class Flow : uint8_t { normal, brk, cont };

    std::string_view src_;
    const Tree& tree_;
    bool header_;
    std::vector<std::pair<std::string, json>> vars_;
    Flow flow_ = Flow::normal;
    int template_depth_ = 0;
    const Methods* methods_ = nullptr;
    const json* row_ = nullptr;
    size_t row_index_ = 0;

    // The method `.Name` names when dot is the row and Name is not one of its fields.
    const Method* method_of(const Operand& o, const json& dot) const {
        if (!methods_ || o.kind != Operand::Kind::field || o.chain.size() != 1) return nullptr;
        if (&dot != row_ || (dot.is_object() && dot.contains(o.chain[0]))) return nullptr;
        auto it = methods_->find(o.chain[0]);
        return it == methods_->end() ? nullptr : &it->second;
    }

    json call_method(const Operand& head, const Method& m, const std::vector<json>& args) {
        if (args.size() != m.arity)
            fail_at(src_, head.pos,
                    fmt::format("executing at <{}>: wrong number of args for {}: want {} got {}",
                                head.source, head.chain[0], m.arity, args.size()));
        if (header_) return json(m.header ? m.header(args) : sys::ascii_upper(head.chain[0]));
        return m.call(row_index_, args);
    }

    // {{template "name" P}}: the named template with P (or nil) as dot, and only $ of
    // its own as variable, as in Go.
    void call_template(const Node& n, const json& dot) {
        auto it = tree_.defs.find(n.text);
        if (it == tree_.defs.end())
            fail_at(src_, n.pos, fmt::format("no such template \"{}\"", n.text));
        if (template_depth_ >= max_template_depth)
            fail_at(src_, n.pos,
                    fmt::format("exceeded maximum template depth ({})", max_template_depth));
        json arg = n.pipe.cmds.empty() ? json() : pipeline(n.pipe, dot);
        auto saved = std::exchange(vars_, {});
        push_var("$", arg);
        ++template_depth_;
        run(*it->second, arg);
        --template_depth_;
        vars_ = std::move(saved);
    }

    void node(const Node& n, const json& dot) {
        switch (n.kind) {
            case Node::Kind::text:
                out += n.text;
                return;
            case Node::Kind::action: {
                json v = pipeline(n.pipe, dot);
                if (n.pipe.vars.empty()) out += go_print(v);
                return;
            }
            case Node::Kind::if_:
            case Node::Kind::with: {
                size_t mark = vars_.size();
                json v = pipeline(n.pipe, dot);
                if (truth(v)) {
                    run(*n.list, n.kind == Node::Kind::with ? v : dot);
                } else if (n.else_list) {
                    run(*n.else_list, dot);
                }
                vars_.resize(mark);
                return;
            }
            case Node::Kind::range:
                range(n, dot);
                return;
            case Node::Kind::template_:
                call_template(n, dot);
                return;
            case Node::Kind::break_:
                flow_ = Flow::brk;
                return;
            case Node::Kind::continue_:
                flow_ = Flow::cont;
                return;
        }
    }

    void range(const Node& n, const json& dot) {
        size_t mark = vars_.size();
        json v = pipeline_value(n.pipe, dot);
        if (!v.is_null() && !v.is_array() && !v.is_object())
            fail_at(src_, n.pos, fmt::format("range can't iterate over {}", go_print(v)));
        size_t count = 0;
        // false after a {{break}}
        auto body = [&](const json& key, const json& elem) {
            size_t inner = vars_.size();
            if (n.pipe.vars.size() == 1) push_var(n.pipe.vars[0], elem);
            if (n.pipe.vars.size() == 2) {
                push_var(n.pipe.vars[0], key);
                push_var(n.pipe.vars[1], elem);
            }
            run(*n.list, elem);
            vars_.resize(inner);
            ++count;
            return std::exchange(flow_, Flow::normal) != Flow::brk;
        };
        if (v.is_array())
            for (size_t i = 0; i < v.size() && body(json(i), v[i]); ++i) {
            }
        if (v.is_object())
            for (auto& [k, e] : v.items())
                if (!body(json(k), e)) break;
        if (count == 0 && n.else_list) run(*n.else_list, dot);
        vars_.resize(mark);
    }

    json* find_var(const std::string& name) {
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it)
            if (it->first == name) return &it->second;
        return nullptr;
    }

    // A pipeline's value; a declaration or assignment stores it too.
    json pipeline(const Pipeline& p, const json& dot) {
        json v = pipeline_value(p, dot);
        if (p.declare) {
            push_var(p.vars[0], v);
        } else if (p.assign) {
            json* slot = find_var(p.vars[0]);
            if (!slot) fail_at(src_, p.pos, fmt::format("undefined variable: {}", p.vars[0]));
            *slot = v;
        }
        return v;
    }

    json pipeline_value(const Pipeline& p, const json& dot) {
        std::optional<json> prev;
        for (const Command& c : p.cmds) prev = command(c, dot, prev ? &*prev : nullptr);
        return prev ? *prev : json();
    }

    json command(const Command& c, const json& dot, const json* piped) {
        const Operand& head = c.args[0];
        if (const Method* m = method_of(head, dot)) {
            std::vector<json> args;
            for (size_t i = 1; i < c.args.size(); ++i) args.push_back(operand(c.args[i], dot));
            if (piped) args.push_back(*piped);
            return call_method(head, *m, args);
        }
        if (head.kind != Operand::Kind::func) {
            if (c.args.size() > 1 || piped)
                fail_at(src_, c.args.size() > 1 ? c.args[1].pos : head.pos,
                        fmt::format("can't give argument to non-function {}", head.source));
            return operand(head, dot);
        }
        const std::string& f = head.name;
        size_t given = c.args.size() - 1 + (piped ? 1 : 0);
        // and/or stop at the first argument that decides, as Go's do
        if (f == "and" || f == "or") {
            if (given < 1)
                fail_at(src_, head.pos,
                        fmt::format("wrong number of args for {}: want at least 1 got 0", f));
            json v;
            for (size_t i = 1; i <= given; ++i) {
                v = i < c.args.size() ? operand(c.args[i], dot) : *piped;
                if (truth(v) != (f == "and")) return v;
            }
            return v;
        }
        std::vector<json> args;
        args.reserve(given);
        for (size_t i = 1; i < c.args.size(); ++i) args.push_back(operand(c.args[i], dot));
        if (piped) args.push_back(*piped);
        try {
            return call(f, args, header_);
        } catch (const FuncError& e) {
            fail_at(src_, head.pos, fmt::format("error calling {}: {}", f, e.what()));
        }
    }

    json operand(const Operand& o, const json& dot) {
        json base;
        switch (o.kind) {
            case Operand::Kind::field:
                if (const Method* m = method_of(o, dot)) return call_method(o, *m, {});
                return fields(dot, o);
            case Operand::Kind::dot:
                return fields(dot, o);
            case Operand::Kind::var: {
                const json* v = find_var(o.name);
                if (!v) fail_at(src_, o.pos, fmt::format("undefined variable: {}", o.name));
                return fields(*v, o);
            }
            case Operand::Kind::literal:
                return o.literal;
            case Operand::Kind::paren:
                return fields(pipeline_value(*o.sub, dot), o);
            case Operand::Kind::func:
                return command(Command{{}, o.pos}, dot, nullptr);
        }
        return base;
    }

    // Follows o.chain from v. A missing key is an error, except in a header row.
    json fields(const json& v, const Operand& o) {
        const json* cur = &v;
        for (const std::string& name : o.chain) {
            if (header_) {
                if (cur->is_object() && cur->contains(name)) {
                    cur = &(*cur)[name];
                    continue;
                }
                return json(sys::ascii_upper(name));
            }
            if (cur->is_object()) {
                auto it = cur->find(name);
                if (it == cur->end())
                    fail_at(src_, o.pos,
                            fmt::format("executing at <{}>: map has no entry for key \"{}\"",
                                        o.source, name));
                cur = &*it;
            } else if (cur->is_null()) {
                fail_at(src_, o.pos,
                        fmt::format("executing at <{}>: nil pointer evaluating interface {{}}.{}",
                                    o.source, name));
            } else {
                fail_at(src_, o.pos,
                        fmt::format("executing at <{}>: can't evaluate field {} in type {}",
                                    o.source, name, go_type(*cur)));
            }
        }
        return *cur;
    }
};

std::string unescape_tabs(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == 't' || s[i + 1] == 'n')) {
            out += s[i + 1] == 't' ? '\t' : '\n';
            ++i;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::string_view trim_spaces(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
}

}  // namespace

Template::Template(std::string_view text) : source_(text) {
    tree_ = std::make_unique<Tree>(parse(source_));
}
Template::~Template() = default;
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;

std::string Template::execute(const json& dot) const {
    Exec e(source_, *tree_, false);
    e.push_var("$", dot);
    e.run(*tree_->root, dot);
    return std::move(e.out);
}

std::string Template::execute(const json& dot, const Methods& methods, size_t row) const {
    Exec e(source_, *tree_, false);
    e.bind(&methods, &dot, row);
    e.push_var("$", dot);
    e.run(*tree_->root, dot);
    return std::move(e.out);
}

std::string Template::execute_header(const json& headers, const Methods* methods) const {
    Exec e(source_, *tree_, true);
    e.bind(methods, &headers, 0);
    e.push_var("$", headers);
    e.run(*tree_->root, headers);
    return std::move(e.out);
}

std::string format_rows(std::string_view format, const std::vector<json>& rows, const json& headers,
                        std::string_view default_table, const Methods* methods) {
    static const Methods none;
    const Methods& m = methods ? *methods : none;
    std::string f = unescape_tabs(format);
    if (trim_spaces(f) == "table" && !default_table.empty()) f = unescape_tabs(default_table);
    std::string out;
    if (trim_spaces(f) == "json") {
        for (const json& r : rows) out += to_json(r) + "\n";
        return out;
    }
    bool table = f.starts_with("table");
    std::string body(trim_spaces(table ? std::string_view(f).substr(5) : std::string_view(f)));
    Template t(body);
    if (!table) {
        for (size_t i = 0; i < rows.size(); ++i) out += t.execute(rows[i], m, i) + "\n";
        return out;
    }
    std::string text = t.execute_header(headers, &m) + "\n";
    for (size_t i = 0; i < rows.size(); ++i) text += t.execute(rows[i], m, i) + "\n";
    return tabwrite(text);
}

std::string format_object(std::string_view format, const json& value) {
    std::string f = unescape_tabs(format);
    if (trim_spaces(f) == "json") return to_json(value) + "\n";
    return Template(f).execute(value) + "\n";
}

}  // namespace husk::cli::tmpl