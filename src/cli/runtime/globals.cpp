// husk-runtime's global options: their CLI11 registration (from global_options.h's table)
// and what follows their parse, whichever parser read them.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string_view>

#include <CLI/CLI.hpp>

#include "cli/runtime/commands.h"
#include "cli/runtime/entry.h"
#include "cli/runtime/global_options.h"
#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/user_dirs.h"

namespace husk::cli {
namespace {

CLI::IsMember one_of(const auto& values) {
    return CLI::IsMember(std::vector<std::string>(std::begin(values), std::end(values)));
}

}  // namespace

bool Globals::is_rootless() const {
    if (rootless != "auto") return rootless == "true";
    // root inside a user namespace is rootless too: the host's id map is not all of ours
    return sys::unprivileged();
}

namespace {

// runc's rule for the default state root: a user's is under $XDG_RUNTIME_DIR, and so is
// that of root in a user namespace (rootless podman runs the runtime as its namespace's
// root, with the user's $XDG_RUNTIME_DIR) unless $USER says root; there only a directory
// that is ours (as we see owners: the user's, under rootless podman), never one another
// user of that namespace gave us through the environment (`su` keeps it).
std::string default_root() {
    if (sys::rootless()) return sys::xdg_runtime_dir() + "/husk-runtime";
    const char* xdg = std::getenv("XDG_RUNTIME_DIR");
    const char* user = std::getenv("USER");
    if (xdg == nullptr || *xdg == '\0' || (user != nullptr && std::string_view(user) == "root") ||
        !sys::in_user_namespace())
        return {};
    struct stat st {};
    if (::lstat(xdg, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) return {};
    return std::string(xdg) + "/husk-runtime";
}

}  // namespace

std::string_view verb_of(int argc, char** argv) {
    const char* verb = husk_runtime_verb(argc, argv);
    return verb ? std::string_view(verb) : std::string_view();
}

void complete_globals(Globals& g, bool root_given, const std::function<void()>& configure_log) {
    configure_log();
    // A user's state lives in its runtime directory, as runc's $XDG_RUNTIME_DIR/runc.
    if (!root_given)
        if (std::string d = default_root(); !d.empty()) g.root = d;
    if (g.systemd_cgroup)
        throw Error("--systemd-cgroup: the systemd cgroup driver is not supported; use cgroupfs");
}

void add_global_options(CLI::App& app, Globals& g) {
    for (const auto& o : kGlobalOptions) {
        const std::string name(o.name);
        switch (o.id) {
            case GlobalOption::root:
                app.add_option(name, g.root,
                               "state directory of the containers (default /run/husk-runtime; "
                               "as a user $XDG_RUNTIME_DIR/husk-runtime)");
                break;
            case GlobalOption::log:
                app.add_option(name, g.log, "log file (appended to)");
                break;
            case GlobalOption::log_format:
                app.add_option(name, g.log_format, "log format: text or json")
                    ->check(one_of(kLogFormats));
                break;
            case GlobalOption::rootless:
                app.add_option(name, g.rootless,
                               "true, false or auto (default: auto, rootless when not root on "
                               "the host)")
                    ->check(one_of(kRootlessValues));
                break;
            case GlobalOption::criu:
                app.add_option(name, "ignored: checkpoint/restore is not supported");
                break;
            case GlobalOption::debug:
                app.add_flag(name, g.debug, "log debug messages");
                break;
            case GlobalOption::systemd_cgroup:
                app.add_flag(name, g.systemd_cgroup, "use systemd to manage cgroups");
                break;
        }
    }
}

}  // namespace husk::cli
