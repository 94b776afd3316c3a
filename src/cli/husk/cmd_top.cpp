// husk top CONTAINER [ps OPTIONS]
// The container's processes as the host's ps shows them (docker's default: -ef).
#include <algorithm>

#include <fmt/format.h>

#include "cli/husk/container_cmd.h"
#include "engine/lifecycle.h"
#include "engine/top.h"

namespace husk::cli {
namespace {

// docker's table: columns at least 20 wide, 3 spaces after the widest entry.
void print_table(const engine::TopResult& r) {
    std::vector<size_t> w(r.titles.size(), 0);
    auto widen = [&](const std::vector<std::string>& row) {
        for (size_t i = 0; i + 1 < row.size() && i < w.size(); ++i)
            w[i] = std::max(w[i], row[i].size());
    };
    widen(r.titles);
    for (auto& p : r.processes) widen(p);
    auto line = [&](const std::vector<std::string>& row) {
        std::string s;
        for (size_t i = 0; i < row.size(); ++i)
            s += i + 1 < row.size() ? fmt::format("{:<{}}", row[i], std::max<size_t>(20, w[i] + 3))
                                    : row[i];
        fmt::print("{}\n", s);
    };
    line(r.titles);
    for (auto& p : r.processes) line(p);
}

void add_top(CLI::App& app, Context& ctx, Commands& cmds) {
    auto name = std::make_shared<std::string>();
    auto* sub = app.add_subcommand("top", "the processes of a running container");
    sub->add_option("container", *name, "container name or id")->required();
    sub->prefix_command();  // everything after the container goes to ps
    cmds.on(sub, [name, sub, &ctx] {
        auto ec = engine_context(ctx);
        print_table(engine::top(ec, engine::lookup(ec, *name), sub->remaining()));
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(top, add_top);

}  // namespace husk::cli
