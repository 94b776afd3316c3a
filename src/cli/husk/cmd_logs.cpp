// husk logs [-f] [--tail N|all] [--since TIME] [--until TIME] [-t] CONTAINER
// What the container wrote, from the json-file log its monitor keeps.
#include <fmt/format.h>

#include "cli/husk/container_cmd.h"
#include "engine/lifecycle.h"
#include "engine/logs.h"
#include "sys/error.h"

namespace husk::cli {
namespace {

struct LogsFlags {
    engine::LogsOptions o;
    std::string tail = "all", since, until, name;
};

void add_logs(CLI::App& app, Context& ctx, Commands& cmds) {
    auto f = std::make_shared<LogsFlags>();
    auto* sub = app.add_subcommand("logs", "what a container wrote to stdout and stderr");
    sub->add_flag("-f,--follow", f->o.follow, "keep printing new output until it stops");
    sub->add_option("-n,--tail", f->tail, "only the last N lines (default: all)");
    sub->add_option("--since", f->since, "from this time (RFC 3339, Unix time, or 10m)");
    sub->add_option("--until", f->until, "up to this time (RFC 3339, Unix time, or 10m ago)");
    sub->add_flag("-t,--timestamps", f->o.timestamps, "show each line's time");
    sub->add_option("container", f->name, "container name or id")->required();
    cmds.on(sub, [f, &ctx] {
        auto ec = engine_context(ctx);
        engine::LogsOptions o = f->o;
        if (f->tail != "all") {
            try {
                size_t used = 0;
                long n = std::stol(f->tail, &used);
                if (used != f->tail.size() || n < 0) throw std::invalid_argument("");
                o.tail = static_cast<size_t>(n);
            } catch (const std::exception&) {
                fmt::print(stderr, "husk: invalid argument \"{}\" for \"-n, --tail\" flag\n",
                           f->tail);
                return 125;
            }
        }
        o.since_ns = engine::parse_since(f->since);
        o.until_ns = engine::parse_since(f->until);
        auto rec = engine::lookup(ec, f->name);
        engine::print_logs(ec, rec, o);
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(logs, add_logs);

}  // namespace husk::cli
