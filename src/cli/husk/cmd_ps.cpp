// husk ps [-a] [-q] [-n N] [-l] [-s] [--no-trunc] [--filter KEY=VALUE]... [--format json|TEMPLATE]
// Lists containers as docker does: running ones, every one with -a.
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/husk/container_cmd.h"
#include "cli/husk/util.h"
#include "cli/template/template.h"
#include "engine/health.h"
#include "engine/inspect.h"
#include "engine/lifecycle.h"
#include "engine/network.h"
#include "engine/prune.h"
#include "engine/system.h"
#include "image/store.h"
#include "network/ports.h"
#include "sys/error.h"

namespace husk::cli {
namespace {

struct PsFlags {
    bool all = false, quiet = false, no_trunc = false, latest = false, size = false;
    int last = -1;
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
                   const std::string& ports, const std::string& labels) {
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

// docker's column titles for `--format 'table ...'`, and its default table.
const nlohmann::json& ps_headers() {
    static const nlohmann::json h = {{"ID", "CONTAINER ID"},    {"Image", "IMAGE"},
                                     {"Command", "COMMAND"},    {"CreatedAt", "CREATED AT"},
                                     {"RunningFor", "CREATED"}, {"Status", "STATUS"},
                                     {"State", "STATE"},        {"ExitCode", "EXIT CODE"},
                                     {"Names", "NAMES"},        {"Ports", "PORTS"},
                                     {"Mounts", "MOUNTS"},      {"Labels", "LABELS"},
                                     {"Size", "SIZE"},          {"Networks", "NETWORKS"}};
    return h;
}
constexpr const char* ps_table =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

// Filters as docker's: name= (substring), id= (prefix), status=, exited=, label=KEY or
// label=KEY=VALUE, ancestor= (an image name or id, resolved in the store).
bool matches(Context& ctx, const engine::EngineContext& ec, const engine::ContainerRecord& r,
             const std::string& filter) {
    size_t eq = filter.find('=');
    if (eq == std::string::npos)
        throw Error(fmt::format("bad format of filter (expected name=value)"));
    std::string key = filter.substr(0, eq), value = filter.substr(eq + 1);
    if (key == "name") return r.name.find(value) != std::string::npos;
    if (key == "id") return r.id.starts_with(value);
    if (key == "status") return r.state() == value;
    if (key == "ancestor") {
        if (r.image == value || r.image_id == value) return true;
        try {
            return ctx.store().resolve(value).id == r.image_id;
        } catch (const Error&) {
            return false;  // no such image: no container of it
        }
    }
    if (key == "label") {
        auto labels = engine::container_labels(ec, r);
        size_t eq2 = value.find('=');
        if (eq2 == std::string::npos) return labels.contains(value);
        auto it = labels.find(value.substr(0, eq2));
        return it != labels.end() && it->second == value.substr(eq2 + 1);
    }
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
    sub->add_option("-n,--last", f->last, "the N containers made last (any state)");
    sub->add_flag("-l,--latest", f->latest, "the container made last (any state)");
    sub->add_flag("-s,--size", f->size, "the size of each container's changes");
    sub->add_option("-f,--filter", f->filters,
                    "name=, id=, status=, ancestor=, exited=, label=KEY[=VALUE]")
        ->allow_extra_args(false);
    sub->add_option("--format", f->format, "json, or a template: {{.ID}} {{.Names}} ...");
    cmds.on(sub, [f, &ctx] {
        auto ec = engine_context(ctx);
        auto all = engine::list_containers(ec);
        std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.created > b.created; });
        std::vector<nlohmann::json> rows;
        std::vector<Labels> labels;
        bool by_status = false;  // docker: a status filter looks at every container
        for (auto& flt : f->filters)
            by_status = by_status || flt.starts_with("status=") || flt.starts_with("exited=");
        // -n/-l: the last made, whatever their state
        int last = f->latest ? 1 : f->last;
        if (last >= 0 && static_cast<size_t>(last) < all.size())
            all.resize(static_cast<size_t>(last));
        bool every = f->all || by_status || last >= 0;
        for (auto& r : all) {
            if (!every && r.status != engine::ContainerStatus::running) continue;
            bool ok = true;
            for (auto& flt : f->filters) ok = ok && matches(ctx, ec, r, flt);
            if (!ok) continue;
            if (f->quiet) {
                fmt::print("{}\n", f->no_trunc ? r.id : r.id.substr(0, 12));
                continue;
            }
            labels.push_back(engine::container_labels(ec, r));
            rows.push_back(row(ec, r, f->no_trunc, ports_text(ec, r), labels_text(labels.back())));
            if (f->size) {
                uint64_t rw = engine::container_size_rw(ec, r.id);
                uint64_t virt = rw;
                try {
                    if (!r.image_id.empty())
                        virt += engine::image_size(ctx.store(), ctx.store().resolve(r.image_id));
                } catch (const Error&) {
                    // its image removed meanwhile
                }
                rows.back()["Size"] =
                    fmt::format("{} (virtual {})", human_size(rw), human_size(virt));
            }
        }
        if (f->quiet) return 0;
        if (!f->format.empty()) {
            auto methods = label_methods(labels);
            fmt::print("{}", tmpl::format_rows(f->format, rows, ps_headers(), ps_table, &methods));
            return 0;
        }
        // PORTS as wide as its longest entry, as docker's tabwriter makes it
        size_t ports_w = 10, names_w = 8;
        for (auto& r : rows) {
            ports_w = std::max(ports_w, r["Ports"].get<std::string>().size() + 3);
            names_w = std::max(names_w, r["Names"].get<std::string>().size() + 3);
        }
        auto line = [&](const std::string& id, const std::string& image, const std::string& cmd,
                        const std::string& created, const std::string& status,
                        const std::string& ports, const std::string& names,
                        const std::string& size) {
            std::string l = fmt::format("{:<15}{:<20}{:<24}{:<24}{:<28}{:<{}}", id, image, cmd,
                                        created, status, ports, ports_w);
            l += f->size ? fmt::format("{:<{}}{}", names, names_w, size) : names;
            fmt::print("{}\n", l);
        };
        line("CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES", "SIZE");
        for (auto& r : rows)
            line(r["ID"].get<std::string>(), r["Image"].get<std::string>(),
                 r["Command"].get<std::string>(), r["RunningFor"].get<std::string>(),
                 r["Status"].get<std::string>(), r["Ports"].get<std::string>(),
                 r["Names"].get<std::string>(), r.value("Size", ""));
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(ps, add_ps);

}  // namespace husk::cli
