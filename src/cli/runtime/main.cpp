// husk-runtime: the OCI runtime command line, spelled as runc spells it.
#include <seccomp.h>
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

#include "cli/runtime/commands.h"
#include "cli/runtime/entry.h"
#include "sys/log.h"
#include "sys/self_exe.h"

namespace {

std::string version_text() {
    const scmp_version* v = seccomp_version();
    return fmt::format("husk-runtime version {}\nspec: 1.2.0\nlibseccomp: {}.{}.{}", HUSK_VERSION,
                       v->major, v->minor, v->micro);
}

int runtime_main(int argc, char** argv) {
    husk::cli::Globals g;
    g.verb = husk::cli::verb_of(argc, argv);
    // The verbs whose processes are clones of us until their execve (create, run, exec)
    // run from a read-only mount of our own binary (CVE-2019-5736; sys/self_exe.h). The
    // entry point (entry.c) re-executed us from one before the C library started, or found
    // it impossible (rootless: no CAP_SYS_ADMIN): that is noted, so neither this nor
    // create's and exec's own check tries again. Only when the entry point could not look
    // (started by ld.so, another architecture) is it tried here, before anything is parsed.
    int seal_errno = 0;
    switch (husk_runtime_seal_found(&seal_errno)) {
        case HUSK_SEAL_UNDECIDED:
            if (husk_runtime_verb_clones(g.verb.data()) != 0)
                husk::sys::reexec_from_readonly_self();
            break;
        case HUSK_SEAL_SEALED:
            husk::sys::note_self_exe(true, 0);
            break;
        case HUSK_SEAL_IMPOSSIBLE:
            husk::sys::note_self_exe(false, seal_errno);
            break;
        case HUSK_SEAL_NOT_NEEDED:
            break;
    }
    // Log configuration must happen before any verb runs: after the global flags are
    // parsed (CLI11's parse_complete_callback), before the verb.
    bool configured = false;
    auto configure_log = [&] {
        if (configured) return;
        configured = true;
        husk::log::configure(
            g.log, g.log_format == "json" ? husk::log::Format::json : husk::log::Format::text,
            g.debug);
    };
    auto fail = [&](const std::exception& e) {
        configure_log();
        husk::log::error("{}", e.what());
        if (!g.log.empty()) std::fprintf(stderr, "husk-runtime: %s\n", e.what());
        return 1;
    };
    try {
        if (husk::cli::try_fast_path(argc, argv, g, configure_log)) {
            // Done: what exit() would add is the C library's and C++'s own teardown
            // (static destructors, locale, iostreams): instructions, and writes to pages
            // the init's clone left write-protected, a fault each. Output is flushed;
            // fds and locks go with the process.
            std::fflush(nullptr);
            ::_exit(g.exit_code);
        }
    } catch (const std::exception& e) {
        return fail(e);
    }

    CLI::App app{"husk-runtime: an OCI container runtime", "husk-runtime"};
    app.set_version_flag("--version,-v", version_text());
    husk::cli::add_global_options(app, g);
    app.require_subcommand(1);
    husk::cli::LifecycleRequest lifecycle;
    husk::cli::add_lifecycle_commands(app, g, lifecycle);
    husk::cli::add_info_commands(app, g);
    husk::cli::add_resource_commands(app, g);
    husk::cli::add_exec_command(app, g);

    app.parse_complete_callback([&] {
        husk::cli::complete_globals(g, app.get_option("--root")->count() != 0, configure_log);
    });
    try {
        app.parse(argc, argv);
        if (!lifecycle.verb.empty()) husk::cli::run_lifecycle(g, lifecycle);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::string msg = e.what();
        configure_log();
        husk::log::error("{}", msg);
        if (!g.log.empty()) std::fprintf(stderr, "husk-runtime: %s\n", msg.c_str());
        return 1;
    } catch (const std::exception& e) {
        return fail(e);
    }
    return g.exit_code;
}
}  // namespace

int main(int argc, char** argv) {
    try {
        return runtime_main(argc, argv);
    } catch (const std::exception& e) {  // setting up the command line itself failed
        std::fprintf(stderr, "husk-runtime: %s\n", e.what());
        return 1;
    }
}
