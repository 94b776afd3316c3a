// husk: docker/podman-style containers and images.
#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "cli/husk/command.h"
#include "engine/paths.h"
#include "engine/rootless.h"
#include "image/store.h"
#include "sys/error.h"
#include "sys/log.h"
#include "sys/self_exe.h"
#include "sys/user_dirs.h"

namespace husk::cli {

namespace {
std::map<std::string, CommandFactory>& factories() {
    static std::map<std::string, CommandFactory> f;
    return f;
}
}  // namespace

CommandRegistration::CommandRegistration(const char* name, CommandFactory f) {
    factories()[name] = f;
}

const std::map<std::string, CommandFactory>& command_factories() {
    return factories();
}

image::Store& Context::store() {
    if (store_) return *store_;
    store_ = std::make_shared<image::Store>(root);
    if (range_warning && sys::rootless()) {
        try {
            if (auto moved = store_->ranges_moved()) log::warn("{}", *moved);
        } catch (const std::exception& e) {  // a malformed owner-ranges: said where it is used
            log::debug("{}", e.what());
        }
    }
    return *store_;
}

}  // namespace husk::cli

namespace {

// The index of the command word in `args` (after the global flags), or args.size().
size_t command_index(const std::vector<std::string>& args) {
    for (size_t i = 1; i < args.size(); ++i) {
        if (args[i] == "--root") {
            ++i;
            continue;
        }
        if (!args[i].starts_with("-")) return i;
    }
    return args.size();
}

// "husk logs" for the subcommand that failed to parse.
std::string command_path(const CLI::App* app) {
    std::string path;
    for (; app != nullptr && !app->get_name().empty(); app = app->get_parent())
        path = path.empty() ? app->get_name() : fmt::format("{} {}", app->get_name(), path);
    return path.empty() ? std::string("husk") : fmt::format("husk {}", path);
}

// CLI11's errors in docker's words, the same for every command (docker prints them and
// exits 125): "unknown flag: --foo", "flag needs an argument: --tail",
// "invalid argument "x" for "--pids-limit" flag", ""husk rename" requires 2 arguments".
std::string flag_error(const CLI::App* app, const CLI::Error& e) {
    std::string what = e.what();
    // the unexpected arguments CLI11 lists after "...: "; a flag among them first
    auto after_colon = [&] {
        size_t c = what.find(": ");
        std::istringstream rest(c == std::string::npos ? what : what.substr(c + 2));
        std::string first, word;
        while (rest >> word) {
            if (word.starts_with("-")) return word;
            if (first.empty()) first = word;
        }
        return first;
    };
    if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
        std::string arg = after_colon();
        if (arg.starts_with("-")) return fmt::format("unknown flag: {}", arg);
        return fmt::format("\"{}\" accepts no argument \"{}\"", command_path(app), arg);
    }
    if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr) {
        std::string flag = what.substr(0, what.find(':'));
        return fmt::format("flag needs an argument: {}", flag);
    }
    if (dynamic_cast<const CLI::ConversionError*>(&e) != nullptr ||
        dynamic_cast<const CLI::ValidationError*>(&e) != nullptr) {
        // "Could not convert: --pids-limit = abc"
        size_t c = what.find(": "), eq = what.find(" = ");
        if (c != std::string::npos && eq != std::string::npos && eq > c)
            return fmt::format("invalid argument \"{}\" for \"{}\" flag", what.substr(eq + 3),
                               what.substr(c + 2, eq - c - 2));
    }
    if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr &&
        what.find("subcommand") == std::string::npos) {
        size_t n = 0;
        for (const CLI::Option* o : app->get_options())
            if (o->get_positional() && o->get_required())
                n += static_cast<size_t>(std::max(1, o->get_items_expected_min()));
        return fmt::format("\"{}\" requires at least {} argument{}", command_path(app), n,
                           n == 1 ? "" : "s");
    }
    return what;
}

int husk_main(int argc, char** argv) {
    using namespace husk;
    // Containers are created in-process: run from a read-only mount of our own binary
    // before doing anything, so no container can ever reopen it for writing through
    // /proc/PID/exe (CVE-2019-5736 class; see sys/self_exe.h). Re-executes once.
    // (start, restart: a detached container is created by a forked husk; exec: a clone;
    // build: its RUN steps are containers.)
    for (int i = 1; i < argc; ++i)
        if (std::string_view a = argv[i]; a == "run" || a == "create" || a == "start" ||
                                          a == "restart" || a == "exec" || a == "build") {
            // Where we were started from (husk-init lives next to it), kept across the re-exec.
            char exe[4096];
            ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
            if (n > 0 && !std::getenv("HUSK_EXE")) {
                exe[n] = '\0';
                ::setenv("HUSK_EXE", exe, 1);
            }
            sys::reexec_from_readonly_self();
            break;
        }
    std::signal(SIGPIPE, SIG_IGN);
    engine::provide_owner_shift();  // a user's layers get their owners in the user's range
    CLI::App app{"husk: containers and images"};
    app.set_version_flag("--version", "husk " HUSK_VERSION);
    app.require_subcommand(1);
    // One line naming what is wrong, with docker's "See --help" hint folded in.
    app.failure_message([](const CLI::App* root, const CLI::Error& e) {
        const CLI::App* failed = root;  // the innermost subcommand given
        while (!failed->get_subcommands().empty()) failed = failed->get_subcommands().front();
        return fmt::format("husk: {} (see {} --help)\n", flag_error(failed, e),
                           command_path(failed));
    });
    cli::Context ctx;
    cli::Commands cmds;
    auto* root_opt =
        app.add_option("--root", ctx.root,
                       "data root (images, containers; default /var/lib/husk, as a user "
                       "$XDG_DATA_HOME/husk)");
    app.add_flag("--debug", ctx.debug, "debug logging");
    for (auto& [name, factory] : cli::command_factories()) factory(app, ctx, cmds);
    std::vector<std::string> args(argv, argv + argc);
    // a factory may register several commands (rm: rm, wait, container-cleanup): ask the
    // parser which it has
    auto has_command = [&app](const std::string& name) {
        return !app.get_subcommands([&](CLI::App* s) { return s->check_name(name); }).empty();
    };
    if (size_t ci = command_index(args); ci < args.size()) {
        // `husk container ls` is `husk ps`: one handler, reached by its top-level name
        if (ci + 1 < args.size())
            if (auto alias = cli::management_alias(args[ci], args[ci + 1]);
                alias && has_command(*alias)) {
                args[ci] = *alias;
                args.erase(args.begin() + static_cast<std::ptrdiff_t>(ci) + 1);
            }
        if (!has_command(args[ci])) {
            fmt::print(stderr, "husk: unknown command \"{}\" (see husk --help)\n",
                       husk::shown(args[ci]));
            return 125;
        }
    }
    try {
        std::vector<std::string> rev(args.rbegin(), args.rend() - 1);
        app.parse(rev);
    } catch (const CLI::ParseError& e) {
        // Help and --version exit 0; every usage error exits 125, as docker's CLI does.
        int code = app.exit(e);
        return code == 0 ? 0 : 125;
    }
    log::configure("", log::Format::text, ctx.debug);
    CLI::App* sub = app.get_subcommands().front();
    while (!sub->get_subcommands().empty()) sub = sub->get_subcommands().front();
    const cli::Handler* h = cmds.find(sub);
    if (h == nullptr) {
        std::fputs(sub->help().c_str(), stderr);
        return 2;
    }
    try {
        if (root_opt->count() == 0) ctx.root = engine::default_data_root();
        return (*h)();
    } catch (const Error& e) {  // a command's error that decided its exit status
        std::fflush(stdout);
        fmt::print(stderr, "husk: error: {}\n", e.what());
        return e.exit_code() != 0 ? e.exit_code() : 1;
    } catch (const std::exception& e) {
        std::fflush(stdout);
        fmt::print(stderr, "husk: error: {}\n", e.what());
        return 1;
    }
}
}  // namespace

int main(int argc, char** argv) {
    try {
        return husk_main(argc, argv);
    } catch (const std::exception& e) {  // setting up the command line itself failed
        std::fprintf(stderr, "husk: error: %s\n", e.what());
        return 125;
    }
}
