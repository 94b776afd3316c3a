// husk stats [-a] [--no-stream] [--no-trunc] [--format json|TEMPLATE] [CONTAINER...]
// What containers use, as docker shows it: CPU %, memory usage / limit and %, network
// and block I/O, pids. Streams a refreshed table every second (until Ctrl-C) unless
// --no-stream; CPU % is measured over the second between two samples.
#include <unistd.h>

#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/husk/container_cmd.h"
#include "cli/husk/util.h"
#include "cli/template/template.h"
#include "engine/lifecycle.h"
#include "engine/stats.h"
#include "sys/error.h"

namespace husk::cli {
namespace {

struct StatsFlags {
    bool all = false, no_stream = false, no_trunc = false;
    std::string format;
    std::vector<std::string> names;
};

struct Tracked {
    engine::ContainerRecord rec;
    engine::StatsSample last;
};

nlohmann::json row(const Tracked& t, const engine::StatsSample& now, bool no_trunc) {
    double cpu = engine::cpu_percent(t.last, now);
    double mem = now.mem_limit ? 100.0 * static_cast<double>(now.mem_usage) /
                                     static_cast<double>(now.mem_limit)
                               : 0;
    std::string id = no_trunc ? t.rec.id : t.rec.id.substr(0, 12);
    return {
        {"ID", id},
        {"Container", id},
        {"Name", t.rec.name},
        {"CPUPerc", fmt::format("{:.2f}%", cpu)},
        {"MemUsage",
         fmt::format("{} / {}", binary_size(now.mem_usage), binary_size(now.mem_limit))},
        {"MemPerc", fmt::format("{:.2f}%", mem)},
        {"NetIO", fmt::format("{} / {}", human_size(now.net_rx), human_size(now.net_tx))},
        {"BlockIO", fmt::format("{} / {}", human_size(now.blk_read), human_size(now.blk_write))},
        {"PIDs", std::to_string(now.pids)}};
}

void print_table(const std::vector<nlohmann::json>& rows, const std::string& format) {
    if (!format.empty()) {
        static const nlohmann::json headers = {
            {"ID", "CONTAINER ID"}, {"Container", "CONTAINER"},        {"Name", "NAME"},
            {"CPUPerc", "CPU %"},   {"MemUsage", "MEM USAGE / LIMIT"}, {"MemPerc", "MEM %"},
            {"NetIO", "NET I/O"},   {"BlockIO", "BLOCK I/O"},          {"PIDs", "PIDS"}};
        fmt::print("{}", tmpl::format_rows(format, rows, headers,
                                           "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}"
                                           "\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"));
        return;
    }
    constexpr auto line = "{:<15}{:<20}{:<10}{:<24}{:<9}{:<20}{:<20}{}\n";
    fmt::print(line, "CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O",
               "BLOCK I/O", "PIDS");
    for (auto& r : rows)
        fmt::print(line, r["ID"].get<std::string>(), r["Name"].get<std::string>(),
                   r["CPUPerc"].get<std::string>(), r["MemUsage"].get<std::string>(),
                   r["MemPerc"].get<std::string>(), r["NetIO"].get<std::string>(),
                   r["BlockIO"].get<std::string>(), r["PIDs"].get<std::string>());
}

int stats(Context& ctx, const StatsFlags& f) {
    auto ec = engine_context(ctx);
    std::vector<Tracked> tracked;
    if (!f.names.empty()) {
        for (auto& n : f.names) tracked.push_back({engine::lookup(ec, n), {}});
    } else {
        for (auto& r : engine::list_containers(ec))
            if (f.all || r.status == engine::ContainerStatus::running) tracked.push_back({r, {}});
    }
    for (auto& t : tracked) t.last = engine::sample_stats(ec, t.rec);
    bool tty = stdout_is_tty();
    for (;;) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        std::vector<nlohmann::json> rows;
        for (auto& t : tracked) {
            if (!f.names.empty() || f.all) t.rec = engine::lookup(ec, t.rec.id);
            auto now = engine::sample_stats(ec, t.rec);
            rows.push_back(row(t, now, f.no_trunc));
            t.last = now;
        }
        if (!f.no_stream && tty) fmt::print("\033[2J\033[H");  // docker clears the screen
        print_table(rows, f.format);
        std::fflush(stdout);
        if (f.no_stream) return 0;
    }
}

void add_stats(CLI::App& app, Context& ctx, Commands& cmds) {
    auto f = std::make_shared<StatsFlags>();
    auto* sub = app.add_subcommand("stats", "resource usage of containers (CPU, memory, I/O)");
    sub->add_flag("-a,--all", f->all, "every container (default: running ones)");
    sub->add_flag("--no-stream", f->no_stream, "print one result and exit");
    sub->add_flag("--no-trunc", f->no_trunc, "full ids");
    sub->add_option("--format", f->format, "json, or a template: {{.Name}} {{.CPUPerc}} ...");
    sub->add_option("containers", f->names, "containers (default: every running one)");
    cmds.on(sub, [f, &ctx] { return stats(ctx, *f); });
}

}  // namespace

HUSK_COMMAND(stats, add_stats);

}  // namespace husk::cli
