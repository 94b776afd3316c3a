// husk ps [-a] [-q] [--no-trunc] [--filter KEY=VALUE]... [--format json|TEMPLATE]
// Lists containers as docker does: running ones, every one with -a.
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/husk/container_cmd.h"
#include "cli/husk/util.h"
#include "engine/health.h"
#include "engine/lifecycle.h"
#include "engine/network.h"
#include "network/ports.h"
#include "sys/error.h"

namespace husk::cli {
namespace {

struct PsFlags {
    bool all = false, quiet = false, no_trunc = false;
    std::vector<std::string> filters;
    std::string format;
};

// docker's: "Up 3 minutes (healthy)", "Up 2 seconds (health: starting)", "Restarting (1) ..."
std::string status_text(const engine::ContainerRecord& r,
                        const std::optional<engine::HealthState>& health) {
    if (r.restarting)
        return fmt::format("Restarting ({}) {} ago", r.exit_code,
                           human_duration(seconds_since(r.finished)));
    if (r.status == engine::ContainerStatus::running) {
        std::string h;
        if (health)
            h = health->status == "starting" ? " (health: starting)"
                                             : fmt::format(" ({})", health->status);
        return "Up " + human_duration(seconds_since(r.started)) + (r.paused ? " (Paused)" : h);
    }
    if (r.status == engine::ContainerStatus::exited) {
        std::string code = r.exit_code == -1 ? "unknown" : std::to_string(r.exit_code);
        return fmt::format("Exited ({}) {} ago", code, human_duration(seconds_since(r.finished)));
    }
    return "Created";
}

std::string command_text(const engine::ContainerRecord& r, bool no_trunc) {
    std::string cmd;
    for (auto& a : r.command) cmd += (cmd.empty() ? "" : " ") + a;
    if (!no_trunc && cmd.size() > 20) cmd = cmd.substr(0, 19) + "…";
    return "\"" + cmd + "\"";
}

// docker's PORTS: "127.0.0.1:8080->80/tcp, 0.0.0.0:5353->53/udp" while published.
std::string ports_text(const engine::EngineContext& ec, const engine::ContainerRecord& r) {
    if (r.status != engine::ContainerStatus::running) return "";
    std::string out;
    try {
        if (auto ep = engine::container_endpoint(ec, r.id))
            for (auto& p : ep->ports) out += (out.empty() ? "" : ", ") + network::describe(p);
    } catch (const std::exception&) {
        // removed meanwhile
    }
    return out;
}

nlohmann::json row(const engine::EngineContext& ec, const engine::ContainerRecord& r, bool no_trunc,
                   const std::string& ports) {
    std::string labels;
    return {{"ID", no_trunc ? r.id : r.id.substr(0, 12)},
            {"Image", r.image.empty() ? r.rootfs : r.image},
            {"Command", command_text(r, no_trunc)},
            {"CreatedAt", r.created},
            {"RunningFor", time_ago(r.created)},
            {"Status", status_text(r, engine::load_health(ec.data_root, r))},
            {"State", r.state()},
            {"ExitCode", r.exit_code},
            {"Names", r.name},
            {"Ports", ports},
            {"Mounts", ""},
            {"Labels", labels}};
}

bool matches(const engine::ContainerRecord& r, const std::string& filter) {
    size_t eq = filter.find('=');
    if (eq == std::string::npos)
        throw Error(fmt::format("bad format of filter (expected name=value)"));
    std::string key = filter.substr(0, eq), value = filter.substr(eq + 1);
    if (key == "name") return r.name.find(value) != std::string::npos;
    if (key == "id") return r.id.starts_with(value);
    if (key == "status") return r.state() == value;
    if (key == "ancestor") return r.image == value || r.image_id == value;
    if (key == "exited")
        return r.status == engine::ContainerStatus::exited && std::to_string(r.exit_code) == value;
    throw Error(fmt::format("invalid filter '{}'", key));
}

void add_ps(CLI::App& app, Context& ctx, Commands& cmds) {
    auto f = std::make_shared<PsFlags>();
    auto* sub = app.add_subcommand("ps", "list containers");
    sub->add_flag("-a,--all", f->all, "show every container (default: running ones)");
    sub->add_flag("-q,--quiet", f->quiet, "only the ids");
    sub->add_flag("--no-trunc", f->no_trunc, "full ids and commands");
    sub->add_option("-f,--filter", f->filters, "name=, id=, status=, ancestor=, exited=")
        ->allow_extra_args(false);
    sub->add_option("--format", f->format, "json, or a template: {{.ID}} {{.Names}} ...");
    cmds.on(sub, [f, &ctx] {
        auto ec = engine_context(ctx);
        auto all = engine::list_containers(ec);
        std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.created > b.created; });
        std::vector<nlohmann::json> rows;
        bool by_status = false;  // docker: a status filter looks at every container
        for (auto& flt : f->filters)
            by_status = by_status || flt.starts_with("status=") || flt.starts_with("exited=");
        for (auto& r : all) {
            if (!f->all && !by_status && r.status != engine::ContainerStatus::running) continue;
            bool ok = true;
            for (auto& flt : f->filters) ok = ok && matches(r, flt);
            if (!ok) continue;
            if (f->quiet) {
                fmt::print("{}\n", f->no_trunc ? r.id : r.id.substr(0, 12));
                continue;
            }
            rows.push_back(row(ec, r, f->no_trunc, ports_text(ec, r)));
        }
        if (f->quiet) return 0;
        if (!f->format.empty()) {
            for (auto& r : rows) fmt::print("{}\n", render_format(f->format, r));
            return 0;
        }
        // PORTS as wide as its longest entry, as docker's tabwriter makes it
        size_t ports_w = 10;
        for (auto& r : rows) ports_w = std::max(ports_w, r["Ports"].get<std::string>().size() + 3);
        fmt::print("{:<15}{:<20}{:<24}{:<24}{:<28}{:<{}}{}\n", "CONTAINER ID", "IMAGE", "COMMAND",
                   "CREATED", "STATUS", "PORTS", ports_w, "NAMES");
        for (auto& r : rows)
            fmt::print("{:<15}{:<20}{:<24}{:<24}{:<28}{:<{}}{}\n", r["ID"].get<std::string>(),
                       r["Image"].get<std::string>(), r["Command"].get<std::string>(),
                       r["RunningFor"].get<std::string>(), r["Status"].get<std::string>(),
                       r["Ports"].get<std::string>(), ports_w, r["Names"].get<std::string>());
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(ps, add_ps);

}  // namespace husk::cli
