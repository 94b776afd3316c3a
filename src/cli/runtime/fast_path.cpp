// The verbs engines call for every container (create, start, run, delete, kill), parsed
// by hand when argv spells them plainly: building CLI11's option tree and matching argv
// against it was ~270 k of the ~3 M user instructions of a `run`. Anything else (help,
// a typo, a repeated option, a value that looks like a flag, `--`) returns false and
// CLI11 parses the whole command line, so it alone words the errors and help.
#include <charconv>
#include <optional>
#include <string>
#include <string_view>

#include "cli/runtime/commands.h"
#include "runtime/container.h"
#include "runtime/signals.h"

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

struct VerbArgs {
    runtime::CreateOptions create;
    bool detach = false, keep = false, force = false, all = false;
    std::string signal = "SIGTERM";
    int positionals = 0;
};

// The verb's own options and operands; false: leave it to CLI11.
bool parse_verb(std::string_view verb, Tokens& t, VerbArgs& a) {
    const bool creates = verb == "create" || verb == "run";
    bool seen_bundle = false, seen_pid = false, seen_console = false, seen_fds = false;
    std::string fds;
    while (!t.done()) {
        std::string_view tok = t.next();
        if (tok.empty()) return false;
        if (tok[0] != '-') {
            ++a.positionals;
            if (a.positionals == 1) {
                a.create.id.assign(tok);
            } else if (a.positionals == 2 && verb == "kill") {
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
        if ((verb == "delete" || verb == "rm") && (tok == "--force" || tok == "-f")) {
            if (!flag_once(a.force)) return false;
            continue;
        }
        if (verb == "kill" && (tok == "--all" || tok == "-a")) {
            if (!flag_once(a.all)) return false;
            continue;
        }
        return false;
    }
    return a.positionals >= 1;
}

// The global options before the verb; false: leave it to CLI11.
bool parse_globals(Tokens& t, std::string_view verb, Globals& g, bool& root_given) {
    bool seen_log = false, seen_format = false, seen_rootless = false, seen_criu = false;
    std::string criu;
    while (!t.done()) {
        std::string_view tok = t.next();
        if (tok == verb) return true;
        if (tok.empty() || tok[0] != '-') return false;
        bool bad = false;
        if (auto v = t.value(tok, "--root", "", bad)) {
            if (!set_once(g.root, root_given, v, bad)) return false;
        } else if (auto v = t.value(tok, "--log", "", bad)) {
            if (!set_once(g.log, seen_log, v, bad)) return false;
        } else if (auto v = t.value(tok, "--log-format", "", bad)) {
            if (!set_once(g.log_format, seen_format, v, bad)) return false;
            if (g.log_format != "text" && g.log_format != "json") return false;
        } else if (auto v = t.value(tok, "--rootless", "", bad)) {
            if (!set_once(g.rootless, seen_rootless, v, bad)) return false;
            if (g.rootless != "true" && g.rootless != "false" && g.rootless != "auto") return false;
        } else if (auto v = t.value(tok, "--criu", "", bad)) {
            if (!set_once(criu, seen_criu, v, bad)) return false;
        } else if (!bad && tok == "--debug") {
            if (!flag_once(g.debug)) return false;
        } else if (!bad && tok == "--systemd-cgroup") {
            if (!flag_once(g.systemd_cgroup)) return false;
        } else {
            return false;  // malformed, or not one of ours
        }
    }
    return false;
}

}  // namespace

bool try_fast_path(int argc, char** argv, Globals& g, const std::function<void()>& configure) {
    const std::string_view verb = g.verb;
    if (verb != "create" && verb != "run" && verb != "start" && verb != "delete" && verb != "rm" &&
        verb != "kill")
        return false;
    Tokens t(argc, argv, 1);
    Globals parsed = g;
    bool root_given = false;
    VerbArgs a;
    if (!parse_globals(t, verb, parsed, root_given) || !parse_verb(verb, t, a)) return false;
    g = parsed;
    complete_globals(g, root_given, configure);
    const std::string& id = a.create.id;
    if (verb == "create" || verb == "run") {
        a.create.root = g.root;
        a.create.rootless = g.is_rootless();
        a.create.listen_fds = runtime::socket_activation_fds();
        if (verb == "create")
            runtime::create(a.create);
        else
            g.exit_code = runtime::run(a.create, a.detach);
    } else if (verb == "start") {
        runtime::start(g.root, id);
    } else if (verb == "kill") {
        runtime::kill(g.root, id, runtime::parse_signal(a.signal), a.all);
    } else {
        runtime::remove(g.root, id, a.force);
    }
    return true;
}

}  // namespace husk::cli
