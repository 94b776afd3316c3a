// husk sbom IMAGE|CONTAINER [--format table|json|spdx-json|cyclonedx-json] [-o FILE]
// husk scan IMAGE|CONTAINER [--db PATH] [--severity LIST] [--format table|json|sarif] [--exit-code
// N] husk scan --update-db FILE
//
// The packages inside an image, read from its unpacked layers (a container's upper
// layer included), with the layer that introduced each; and those of them that OSV
// records (an offline database) say are vulnerable.
#include <sys/stat.h>

#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/husk/command.h"
#include "cli/husk/container_cmd.h"
#include "engine/lifecycle.h"
#include "engine/rootless.h"
#include "image/store.h"
#include "inventory/inventory.h"
#include "inventory/scan.h"
#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/text.h"

namespace husk::cli {
namespace {

std::string now_rfc3339() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// The image's layers, bottom first, each named by its diff id.
std::vector<inventory::LayerRef> image_layers(image::Store& store, const image::Image& img) {
    std::vector<inventory::LayerRef> layers;
    for (size_t i = 0; i < img.chain_ids.size(); ++i)
        layers.push_back(
            {store.snapshot_dir(img.chain_ids[i]) + "/fs",
             i < img.config.diff_ids.size() ? img.config.diff_ids[i] : img.chain_ids[i]});
    return layers;
}

struct Target {
    inventory::Subject subject;
    std::vector<inventory::LayerRef> layers;
    // as a user, the maps of the ids its files may have (a container's, or those the
    // store's layers were shifted for); empty as root
    std::vector<oci::IdMapping> uids, gids;
};

// `fn` of the target's inventory: read as this process's user; where a user's layers or
// container keep files of the user's subordinate ids from the user (a 0700 directory of
// the image's uid 1000), from a user namespace with those maps, where the user is root
// over them (engine::as_user_or_container_root: a fork and the newuidmap runs).
std::string of_inventory(const Target& t, const std::string& what,
                         const std::function<std::string(const inventory::Inventory&)>& fn) {
    return engine::as_user_or_container_root(t.uids, t.gids, [&](bool) {
        return fn(with_context(what, [&] { return inventory::inventory(t.layers); }));
    });
}

Target container_target(Context& ctx, const engine::ContainerRecord& rec) {
    auto& store = ctx.store();
    Target t;
    t.subject = {rec.name, rec.id, now_rfc3339(), true};
    t.uids = rec.uid_maps;
    t.gids = rec.gid_maps;
    std::string dir = store.root() + "/rootfs/" + rec.id;
    auto mode = sys::read_file_if_exists(dir + "/mode");
    if (rec.image_id.empty() || !mode || *mode == "copy\n") {
        // --rootfs, or a copied root: the root itself is the one layer there is
        t.layers.push_back({rec.rootfs, "rootfs"});
        return t;
    }
    auto img = store.resolve(rec.image_id);
    t.layers = image_layers(store, img);
    t.layers.push_back({dir + "/upper", "upper"});
    return t;
}

Target resolve_target(Context& ctx, const std::string& name) {
    auto& store = ctx.store();
    auto lk = store.lock_shared();
    std::optional<image::Image> img;
    try {
        img = store.resolve(name);
    } catch (const Error&) {
        std::optional<engine::ContainerRecord> rec;
        try {
            rec = engine::lookup(engine_context(ctx), name);
        } catch (const Error&) {
            throw Error(error_format("no such image or container: \"{}\"", name));
        }
        return container_target(ctx, *rec);
    }
    store.ensure_snapshots(*img);
    Target t;
    t.subject = {img->names.empty() ? img->id : img->names.front(), img->id, now_rfc3339(), false};
    t.layers = image_layers(store, *img);
    if (auto r = store.shifted_for()) {
        t.uids = r->uids;
        t.gids = r->gids;
    }
    return t;
}

void add_sbom(CLI::App& app, Context& ctx, Commands& cmds) {
    struct Opts {
        std::string target;
        std::string format = "table";
        std::string output;
    };
    auto o = std::make_shared<Opts>();
    auto* sub = app.add_subcommand("sbom", "list the packages inside an image or container");
    sub->add_option("target", o->target, "image or container")->required();
    sub->add_option("--format", o->format, "table, json, spdx-json or cyclonedx-json")
        ->check(CLI::IsMember({"table", "json", "spdx-json", "cyclonedx-json"}))
        ->capture_default_str();
    sub->add_option("-o,--output", o->output, "write to FILE instead of stdout");
    cmds.on(sub, [o, &ctx] {
        Target t = resolve_target(ctx, o->target);
        std::string out = of_inventory(t, error_format("sbom of \"{}\"", o->target),
                                       [&](const inventory::Inventory& inv) {
                                           if (o->format == "json")
                                               return inventory::to_json(inv, t.subject);
                                           if (o->format == "spdx-json")
                                               return inventory::to_spdx(inv, t.subject);
                                           if (o->format == "cyclonedx-json")
                                               return inventory::to_cyclonedx(inv, t.subject);
                                           return inventory::to_table(inv);
                                       });
        if (o->output.empty())
            fmt::print("{}", out);
        else
            sys::write_file_atomic(o->output, out, 0644);
        return 0;
    });
}

// The OSV records: --db, else what --update-db imported into <root>/osv.
std::vector<inventory::OsvRecord> scan_db(Context& ctx, const std::string& db) {
    std::string path = db.empty() ? ctx.store().root() + "/osv" : db;
    if (db.empty() && !sys::exists_nofollow(path))
        throw Error(
            "no vulnerability database: give --db PATH, or import one with husk scan "
            "--update-db FILE");
    return inventory::load_osv(path);
}

void add_scan(CLI::App& app, Context& ctx, Commands& cmds) {
    struct Opts {
        std::string target;
        std::string db;
        std::string update;
        std::vector<std::string> severity;
        std::string format = "table";
        int exit_code = 0;
    };
    auto o = std::make_shared<Opts>();
    auto* sub =
        app.add_subcommand("scan", "list the known vulnerabilities of an image or container");
    sub->add_option("target", o->target, "image or container");
    sub->add_option("--db", o->db, "OSV records: a directory or zip of OSV JSON files");
    sub->add_option("--update-db", o->update, "import a zip or JSON file of OSV records");
    sub->add_option("--severity", o->severity,
                    "only these severities (CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN)")
        ->delimiter(',')
        ->check(CLI::IsMember({"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"}, CLI::ignore_case));
    sub->add_option("--format", o->format, "table, json or sarif")
        ->check(CLI::IsMember({"table", "json", "sarif"}))
        ->capture_default_str();
    sub->add_option("--exit-code", o->exit_code, "exit with N when there are findings");
    cmds.on(sub, [o, &ctx] {
        if (!o->update.empty()) {
            std::string dir = ctx.store().root() + "/osv";
            sys::mkdir_all(dir);
            std::string name(o->update.substr(o->update.rfind('/') + 1));
            if (!name.ends_with(".zip") && !name.ends_with(".json"))
                throw Error(error_format("import \"{}\": give a .zip or .json file of OSV records",
                                         o->update));
            inventory::load_osv(o->update);  // readable: refuse to import a broken file
            sys::write_file_atomic(dir + "/" + name, sys::read_file(o->update), 0644, true);
            if (o->target.empty()) return 0;
        }
        if (o->target.empty()) throw Error("scan: name an image or container");
        auto records = scan_db(ctx, o->db);
        Target t = resolve_target(ctx, o->target);
        // the report, after one character saying whether there are findings ('1') or not
        std::string out = of_inventory(
            t, error_format("scan of \"{}\"", o->target), [&](const inventory::Inventory& inv) {
                auto findings = inventory::match(inv, records);
                if (!o->severity.empty())
                    std::erase_if(findings, [&](const inventory::Finding& f) {
                        return std::none_of(o->severity.begin(), o->severity.end(),
                                            [&](const std::string& s) {
                                                return sys::ascii_upper(s) == f.severity;
                                            });
                    });
                std::string found = findings.empty() ? "0" : "1";
                if (o->format == "json") return found + inventory::findings_json(findings);
                if (o->format == "sarif") return found + inventory::findings_sarif(findings);
                return found + inventory::findings_table(findings);
            });
        fmt::print("{}", std::string_view(out).substr(1));
        return out.front() == '0' ? 0 : o->exit_code;
    });
}

}  // namespace

HUSK_COMMAND(sbom, add_sbom);
HUSK_COMMAND(scan, add_scan);

}  // namespace husk::cli
