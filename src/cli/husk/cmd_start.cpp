// husk start [-a] [-i] [--detach-keys KEYS] CONTAINER...
// husk start --all-restartable   (what a boot unit runs: engine/restart.h)
// husk attach [--no-stdin] [--detach-keys KEYS] CONTAINER
#include <fmt/format.h>

#include "cli/husk/container_cmd.h"
#include "engine/lifecycle.h"
#include "engine/monitor.h"
#include "engine/restart.h"
#include "sys/error.h"

namespace husk::cli {
namespace {

struct StartFlags {
    bool attach = false, interactive = false, no_stdin = false, sig_proxy = true;
    bool all_restartable = false;
    std::string detach_keys = "ctrl-p,ctrl-q";
    std::vector<std::string> names;
};

// docker: detaching says so on stderr and ends with status 1
int attached_exit(int code) {
    if (code == -2) {
        fmt::print(stderr, "read escape sequence\n");
        return 1;
    }
    return code;
}

// The monitor sends the exit code before its cleanup has recorded the exit and released
// the container's network: as docker, return once the container is "exited", so a
// `husk rm` right after finds it so.
int exited(const engine::Containers& db, const std::string& id, int code) {
    if (code != -2) db.wait_unmonitored(id);
    return attached_exit(code);
}

void add_start(CLI::App& app, Context& ctx, Commands& cmds) {
    auto f = std::make_shared<StartFlags>();
    auto* start = app.add_subcommand("start", "start created or stopped containers");
    start->add_flag("-a,--attach", f->attach, "attach stdout/stderr, wait for the exit code");
    start->add_flag("-i,--interactive", f->interactive, "attach stdin");
    start->add_option("--detach-keys", f->detach_keys, "keys that detach (ctrl-p,ctrl-q)");
    start->add_flag("--all-restartable", f->all_restartable,
                    "start every container its restart policy wants running (at boot)");
    start->add_option("containers", f->names, "containers");
    cmds.on(start, [f, &ctx] {
        auto ec = engine_context(ctx);
        if (f->all_restartable) {
            if (!f->names.empty() || f->attach || f->interactive) {
                fmt::print(stderr, "husk: --all-restartable takes no containers nor -a/-i\n");
                return 125;
            }
            int status = 0;
            engine::start_all_restartable(
                ec, [](const engine::ContainerRecord& r) { fmt::print("{}\n", r.name); },
                [&](const engine::ContainerRecord& r, const std::exception& e) {
                    fmt::print(stderr, "husk: start {}: {}\n", r.name, e.what());
                    status = 1;
                });
            return status;
        }
        if (f->names.empty()) {
            fmt::print(stderr, "husk: \"husk start\" requires at least 1 argument\n");
            return 125;
        }
        std::string keys = engine::parse_detach_keys(f->detach_keys);
        if ((f->attach || f->interactive) && f->names.size() > 1)
            throw Error("you cannot start and attach multiple containers at once");
        if (f->attach || f->interactive) {
            auto rec = engine::lookup(ec, f->names[0]);
            engine::Containers db(ec.data_root);
            sys::UniqueFd sock;
            engine::start_container(ec, rec, [&] { sock = engine::connect_attach(db, rec.id); });
            if (!sock) sock = engine::connect_attach(db, rec.id);  // it was running
            return exited(db, rec.id,
                          engine::attach_relay(sock.get(), rec.tty, f->interactive, keys));
        }
        return for_each_container(f->names, [&](const std::string& n) {
            auto rec = engine::lookup(ec, n);
            engine::start_container(ec, rec);
            fmt::print("{}\n", n);
        });
    });

    auto* attach = app.add_subcommand("attach", "attach to a running container's stdio");
    attach->add_flag("--no-stdin", f->no_stdin, "do not attach stdin");
    attach->add_option("--detach-keys", f->detach_keys, "keys that detach (ctrl-p,ctrl-q)");
    attach->add_flag("--sig-proxy", f->sig_proxy, "accepted for docker's sake (not proxied)");
    attach->add_option("containers", f->names, "container")->required()->expected(1);
    cmds.on(attach, [f, &ctx] {
        auto ec = engine_context(ctx);
        auto rec = engine::lookup(ec, f->names[0]);
        if (rec.status != engine::ContainerStatus::running)
            throw Error("You cannot attach to a stopped container, start it first");
        engine::Containers db(ec.data_root);
        return exited(db, rec.id,
                      engine::attach(db, rec, !f->no_stdin && rec.open_stdin, f->detach_keys));
    });
}

}  // namespace

HUSK_COMMAND(start, add_start);

}  // namespace husk::cli
