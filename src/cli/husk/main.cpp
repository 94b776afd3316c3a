// husk: docker/podman-style containers and images.
#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

#include "cli/husk/command.h"
#include "image/store.h"
#include "sys/error.h"
#include "sys/log.h"
#include "sys/self_exe.h"

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
    if (!store_) store_ = std::make_shared<image::Store>(root);
    return *store_;
}

}  // namespace husk::cli

namespace {
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
    CLI::App app{"husk: containers and images"};
    app.set_version_flag("--version", "husk " HUSK_VERSION);
    app.require_subcommand(1);
    // One line naming what is wrong, with docker's "See --help" hint folded in.
    app.failure_message([](const CLI::App*, const CLI::Error& e) {
        return fmt::format("husk: {} (see husk --help)\n", e.what());
    });
    cli::Context ctx;
    cli::Commands cmds;
    app.add_option("--root", ctx.root, "data root (images, containers)")->capture_default_str();
    app.add_flag("--debug", ctx.debug, "debug logging");
    for (auto& [name, factory] : cli::command_factories()) factory(app, ctx, cmds);
    try {
        app.parse(argc, argv);
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
        return (*h)();
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
