// The verbs engines call for every container (create, start, run, delete, kill), parsed
// by hand when argv spells them plainly: building CLI11's option tree and matching argv
// against it was ~270 k of the ~3 M user instructions of a `run`. Anything else (help,
// a typo, a repeated option, a value that looks like a flag, `--`) returns false and
// CLI11 parses the whole command line, so it alone words the errors and help.
#include <charconv>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

#include "cli/runtime/commands.h"
#include "cli/runtime/global_options.h"

namespace husk::cli {
namespace {

// argv from `i` on, one token at a time; an option's value from "--opt=V" or the next token.
class Tokens {
  public:
    Tokens(int argc, char** argv, int i) : argc_(argc), argv_(argv), i_(i) {}
    bool done() const { return i_ >= argc_; }
    std::string_view next() { return argv_[i_++]; }
    // The value of `name` if `tok` is it (`--name V` or `--name=V`); nullopt if `tok` is
    // another option; `bad` when it is this one but malformed (no value, an empty one, or
    // one that starts with '-').
    std::optional<std::string_view> value(std::string_view tok, std::string_view name,
                                          std::string_view alias, bool& bad) {
        if (tok == name || (!alias.empty() && tok == alias)) {
            if (done()) {
                bad = true;
                return std::nullopt;
            }
            std::string_view v = next();
            if (v.empty() || v[0] == '-') bad = true;
            return v;
        }
        if (tok.size() > name.size() && tok.starts_with(name) && tok[name.size()] == '=') {
            std::string_view v = tok.substr(name.size() + 1);
            if (v.empty()) bad = true;
            return v;
        }
        return std::nullopt;
    }

  private:
    int argc_;
    char** argv_;
    int i_;
};

// Sets `out` once; a second time (or a malformed value) makes the parse fail.
bool set_once(std::string& out, bool& seen, std::optional<std::string_view> v, bool bad) {
    if (bad || seen) return false;
    seen = true;
    out.assign(*v);
    return true;
}

bool flag_once(bool& out) {
    if (out) return false;
    out = true;
    return true;
}

// The verb's own options and operands; false: leave it to CLI11.
bool parse_verb(std::string_view verb, Tokens& t, LifecycleRequest& a) {
    const bool creates = verb == "create" || verb == "run";
    bool seen_bundle = false, seen_pid = false, seen_console = false, seen_fds = false;
    int positionals = 0;
    std::string fds;
    while (!t.done()) {
        std::string_view tok = t.next();
        if (tok.empty()) return false;
        if (tok[0] != '-') {
            ++positionals;
            if (positionals == 1) {
                a.create.id.assign(tok);
            } else if (positionals == 2 && verb == "kill") {
                a.signal.assign(tok);
            } else {
                return false;
            }
            continue;
        }
        bool bad = false;
        if (creates) {
            if (auto v = t.value(tok, "--bundle", "-b", bad)) {
                if (!set_once(a.create.bundle, seen_bundle, v, bad)) return false;
                continue;
            }
            if (auto v = t.value(tok, "--pid-file", "", bad)) {
                if (!set_once(a.create.pid_file, seen_pid, v, bad)) return false;
                continue;
            }
            if (auto v = t.value(tok, "--console-socket", "", bad)) {
                if (!set_once(a.create.console_socket, seen_console, v, bad)) return false;
                continue;
            }
            if (auto v = t.value(tok, "--preserve-fds", "", bad)) {
                if (!set_once(fds, seen_fds, v, bad)) return false;
                auto [end, ec] =
                    std::from_chars(fds.data(), fds.data() + fds.size(), a.create.preserve_fds);
                if (ec != std::errc() || end != fds.data() + fds.size()) return false;
                continue;
            }
            if (bad) return false;
            if (tok == "--no-pivot") {
                if (!flag_once(a.create.no_pivot)) return false;
                continue;
            }
            if (tok == "--no-new-keyring") {
                if (!flag_once(a.create.no_new_keyring)) return false;
                continue;
            }
        }
        if (verb == "run" && (tok == "--detach" || tok == "-d")) {
            if (!flag_once(a.detach)) return false;
            continue;
        }
        if (verb == "run" && tok == "--keep") {
            if (!flag_once(a.keep)) return false;
            continue;
        }
        if (verb == "delete" && (tok == "--force" || tok == "-f")) {
            if (!flag_once(a.force)) return false;
            continue;
        }
        if (verb == "kill" && (tok == "--all" || tok == "-a")) {
            if (!flag_once(a.all)) return false;
            continue;
        }
        return false;
    }
    return positionals >= 1;
}

bool one_of(std::string_view v, const auto& values) {
    for (std::string_view x : values)
        if (v == x) return true;
    return false;
}

// The value of a global option into `g`; false: not one it takes (CLI11 words the error).
bool set_global(GlobalOption id, std::string_view v, Globals& g) {
    switch (id) {
        case GlobalOption::root:
            g.root.assign(v);
            return true;
        case GlobalOption::log:
            g.log.assign(v);
            return true;
        case GlobalOption::log_format:
            g.log_format.assign(v);
            return one_of(v, kLogFormats);
        case GlobalOption::rootless:
            g.rootless.assign(v);
            return one_of(v, kRootlessValues);
        case GlobalOption::criu:
            return true;
        case GlobalOption::debug:
            g.debug = true;
            return true;
        case GlobalOption::systemd_cgroup:
            g.systemd_cgroup = true;
            return true;
    }
    return false;
}

// The global options before the verb (global_options.h's table); false: leave it to CLI11.
bool parse_globals(Tokens& t, std::string_view verb, Globals& g, bool& root_given) {
    bool seen[std::size(kGlobalOptions)] = {};
    while (!t.done()) {
        std::string_view tok = t.next();
        if (tok == verb) {
            root_given = seen[static_cast<size_t>(GlobalOption::root)];
            return true;
        }
        if (tok.empty() || tok[0] != '-') return false;
        bool known = false;
        for (size_t i = 0; i < std::size(kGlobalOptions) && !known; ++i) {
            const GlobalOptionName& o = kGlobalOptions[i];
            bool bad = false;
            std::optional<std::string_view> v;
            if (o.valued) {
                v = t.value(tok, o.name, "", bad);
                if (!v && !bad) continue;
            } else if (tok != o.name) {
                continue;
            }
            if (bad || seen[i] || !set_global(o.id, v.value_or(""), g)) return false;
            seen[i] = known = true;
        }
        if (!known) return false;  // not one of ours
    }
    return false;
}

}  // namespace

bool parse_fast_path(int argc, char** argv, Globals& g, bool& root_given, LifecycleRequest& r) {
    std::string_view verb = g.verb;
    if (verb != "create" && verb != "run" && verb != "start" && verb != "delete" && verb != "rm" &&
        verb != "kill")
        return false;
    Tokens t(argc, argv, 1);
    Globals parsed = g;
    LifecycleRequest a;
    a.verb = verb == "rm" ? "delete" : verb;
    if (!parse_globals(t, verb, parsed, root_given) || !parse_verb(a.verb, t, a)) return false;
    g = parsed;
    r = std::move(a);
    return true;
}

bool try_fast_path(int argc, char** argv, Globals& g, const std::function<void()>& configure) {
    bool root_given = false;
    LifecycleRequest r;
    if (!parse_fast_path(argc, argv, g, root_given, r)) return false;
    complete_globals(g, root_given, configure);
    run_lifecycle(g, r);
    return true;
}

}  // namespace husk::cli
