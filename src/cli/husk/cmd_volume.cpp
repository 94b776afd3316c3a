// husk volume create [--label K=V]... [NAME] | ls [-q] [--format] | inspect NAME... |
//             rm [-f] NAME... | prune [-f] [-a]
// Volumes kept under the data root (engine/volumes.h), as docker's local driver keeps them.
#include <sys/stat.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/husk/container_cmd.h"
#include "cli/husk/prune_output.h"
#include "cli/husk/util.h"
#include "cli/template/template.h"
#include "engine/prune.h"
#include "engine/record.h"
#include "engine/volumes.h"
#include "sys/error.h"

namespace husk::cli {
namespace {

struct VolumeFlags {
    std::vector<std::string> names, labels;
    bool quiet = false, force = false, all = false;
    std::string format;
};

nlohmann::json describe(const engine::Volume& v) {
    return {{"CreatedAt", v.created},     {"Driver", "local"},       {"Labels", v.labels},
            {"Mountpoint", v.mountpoint}, {"Name", v.name},          {"Options", nullptr},
            {"Scope", "local"},           {"Anonymous", v.anonymous}};
}

void add_volume(CLI::App& app, Context& ctx, Commands& cmds) {
    auto f = std::make_shared<VolumeFlags>();
    auto* vol = app.add_subcommand("volume", "manage volumes");
    vol->require_subcommand(1);

    auto* create = vol->add_subcommand("create", "create a volume (a random name without NAME)");
    create->add_option("--label", f->labels, "KEY=VALUE")->allow_extra_args(false);
    create->add_option("name", f->names);
    cmds.on(create, [f, &ctx] {
        auto ec = engine_context(ctx);
        std::map<std::string, std::string> labels;
        for (auto& l : f->labels) {
            auto eq = l.find('=');
            labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
        }
        std::string name = f->names.empty() ? engine::new_container_id() : f->names[0];
        engine::check_volume_name(name);
        engine::VolumeStore(ec.data_root).create(name, f->names.empty(), labels);
        fmt::print("{}\n", name);
        return 0;
    });

    auto* ls = vol->add_subcommand("ls", "list volumes");
    ls->alias("list");
    ls->add_flag("-q,--quiet", f->quiet, "only the names");
    ls->add_option("--format", f->format, "json, or a template: {{.Name}} {{.Mountpoint}} ...");
    cmds.on(ls, [f, &ctx] {
        auto ec = engine_context(ctx);
        auto all = engine::VolumeStore(ec.data_root).list();
        if (!f->quiet && !f->format.empty()) {
            static const nlohmann::json headers = {
                {"Name", "VOLUME NAME"},      {"Driver", "DRIVER"}, {"Scope", "SCOPE"},
                {"Mountpoint", "MOUNTPOINT"}, {"Labels", "LABELS"}, {"CreatedAt", "CREATED"}};
            std::vector<nlohmann::json> rows;
            std::vector<Labels> labels;
            rows.reserve(all.size());
            for (auto& v : all) {
                // docker's rows show the labels as text; inspect shows the map
                rows.push_back(describe(v));
                rows.back()["Labels"] = labels_text(v.labels);
                labels.push_back(v.labels);
            }
            auto methods = label_methods(labels);
            fmt::print("{}", tmpl::format_rows(f->format, rows, headers,
                                               "table {{.Driver}}\t{{.Name}}", &methods));
            return 0;
        }
        if (!f->quiet) fmt::print("{:<10}{}\n", "DRIVER", "VOLUME NAME");
        for (auto& v : all) {
            if (f->quiet)
                fmt::print("{}\n", v.name);
            else
                fmt::print("{:<10}{}\n", "local", v.name);
        }
        return 0;
    });

    auto* inspect = vol->add_subcommand("inspect", "volumes as JSON");
    inspect->add_option("names", f->names)->required();
    cmds.on(inspect, [f, &ctx] {
        auto ec = engine_context(ctx);
        engine::VolumeStore store(ec.data_root);
        auto out = nlohmann::json::array();
        int rc = for_each_container(f->names, [&](const std::string& n) {
            auto v = store.find(n);
            if (!v) throw Error(fmt::format("get {}: no such volume", n));
            out.push_back(describe(*v));
        });
        fmt::print("{}\n", out.dump(4));
        return rc;
    });

    auto* rm = vol->add_subcommand("rm", "remove volumes (not ones a container uses)");
    rm->add_flag("-f,--force", f->force, "no error for a missing volume");
    rm->add_option("names", f->names)->required();
    cmds.on(rm, [f, &ctx] {
        auto ec = engine_context(ctx);
        engine::VolumeStore store(ec.data_root);
        engine::Containers db(ec.data_root);
        return for_each_container(f->names, [&](const std::string& n) {
            if (f->force && !store.find(n)) return;
            store.remove(n, db);
            fmt::print("{}\n", n);
        });
    });

    auto* prune = vol->add_subcommand("prune", "remove unused anonymous volumes (-a: all unused)");
    prune->add_flag("-f,--force", f->force, "do not ask (husk never asks)");
    prune->add_flag("-a,--all", f->all, "named volumes too");
    cmds.on(prune, [f, &ctx] {
        print_prune("Volumes", engine::prune_volumes(engine_context(ctx), f->all), true);
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(volume, add_volume);

}  // namespace husk::cli
