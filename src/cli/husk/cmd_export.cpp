// husk export [-o FILE] CONTAINER: the container's filesystem as a tar (stdout by
// default, never to a terminal).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/husk/command.h"
#include "engine/export.h"
#include "image/store.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/scope_guard.h"

namespace husk::cli {
namespace {

void add_export(CLI::App& app, Context& ctx, Commands& cmds) {
    struct Opts {
        std::string container;
        std::string output;
    };
    auto o = std::make_shared<Opts>();
    auto* sub = app.add_subcommand("export", "write a container's filesystem as a tar archive");
    sub->add_option("container", o->container)->required();
    sub->add_option("-o,--output", o->output, "file (default: stdout, when not a terminal)");
    cmds.on(sub, [o, &ctx] {
        engine::EngineContext ec;
        ec.data_root = ctx.root;
        ec.store = &ctx.store();
        if (o->output.empty() || o->output == "-") {
            if (::isatty(STDOUT_FILENO))
                throw Error(
                    "cowardly refusing to save to a terminal. Use the -o flag or "
                    "redirect");
            engine::export_container(ec, o->container, STDOUT_FILENO);
            return 0;
        }
        // A device, a FIFO or a symlink (-o /dev/null, -o /dev/stdout) is written through:
        // renaming a file over it would replace the node itself.
        struct stat st {};
        if (::lstat(o->output.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
            sys::UniqueFd fd(::open(o->output.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
            if (!fd) throw_sys("open", o->output);
            engine::export_container(ec, o->container, fd.get());
            return 0;
        }
        // Written beside the target and renamed into place: a failed export leaves nothing.
        std::string tmp = o->output + ".husk-export-tmp";
        sys::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (!fd) throw_sys("open", tmp);
        sys::ScopeGuard rm([&]() noexcept { ::unlink(tmp.c_str()); });
        engine::export_container(ec, o->container, fd.get());
        if (::fsync(fd.get()) != 0) throw_sys("fsync", tmp);
        if (::rename(tmp.c_str(), o->output.c_str()) != 0) throw_sys("rename", o->output);
        rm.dismiss();
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(export, add_export);

}  // namespace husk::cli
