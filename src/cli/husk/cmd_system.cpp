// husk system df [-v] | prune [-a] [--volumes] [-f] | info [--format]
// husk container prune [-f], husk image prune [-a] [-f] are in cmd_container.cpp and
// cmd_image.cpp; all of them print what engine/prune.h and engine/system.h report.
#include <cstdio>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/husk/container_cmd.h"
#include "cli/husk/prune_output.h"
#include "cli/husk/util.h"
#include "engine/prune.h"
#include "engine/system.h"
#include "image/store.h"

namespace husk::cli {

using json = nlohmann::json;

bool confirmed(const std::string& warning, bool force) {
    if (force) return true;
    fmt::print("{}\nAre you sure you want to continue? [y/N] ", warning);
    std::fflush(stdout);
    std::string answer;
    std::getline(std::cin, answer);
    return answer == "y" || answer == "Y" || answer == "yes";
}

void print_prune(const char* what, const engine::PruneReport& r, bool total) {
    if (!r.untagged.empty() || !r.deleted.empty()) {
        fmt::print("Deleted {}:\n", what);
        for (auto& u : r.untagged) fmt::print("untagged: {}\n", u);
        bool images = std::string_view(what) == "Images";
        for (auto& d : r.deleted) fmt::print("{}{}\n", images ? "deleted: " : "", d);
        fmt::print("\n");
    }
    if (total) fmt::print("Total reclaimed space: {}\n", human_size(r.reclaimed));
}

int print_info(Context& ctx, const std::string& format) {
    json i = engine::system_info(engine_context(ctx), ctx.store());
    if (!format.empty()) {
        fmt::print("{}\n", render_format(format, i));
        return 0;
    }
    fmt::print("Client:\n Version:    {}\n Context:    default\n Debug Mode: {}\n\n",
               i["ServerVersion"].get<std::string>(), ctx.debug);
    fmt::print(
        "Server:\n Containers: {}\n  Running: {}\n  Paused: {}\n  Stopped: {}\n Images: {}\n",
        i["Containers"].get<int>(), i["ContainersRunning"].get<int>(),
        i["ContainersPaused"].get<int>(), i["ContainersStopped"].get<int>(),
        i["Images"].get<int>());
    fmt::print(
        " Server Version: {}\n Storage Driver: {}\n Cgroup Driver: {}\n Cgroup Version: {}\n",
        i["ServerVersion"].get<std::string>(), i["Driver"].get<std::string>(),
        i["CgroupDriver"].get<std::string>(), i["CgroupVersion"].get<std::string>());
    fmt::print(" Default Runtime: {}\n Kernel Version: {}\n Operating System: {}\n OSType: {}\n",
               i["DefaultRuntime"].get<std::string>(), i["KernelVersion"].get<std::string>(),
               i["OperatingSystem"].get<std::string>(), i["OSType"].get<std::string>());
    fmt::print(" Architecture: {}\n CPUs: {}\n Total Memory: {}\n Name: {}\n Docker Root Dir: {}\n",
               i["Architecture"].get<std::string>(), i["NCPU"].get<long>(),
               binary_size(i["MemTotal"].get<uint64_t>()), i["Name"].get<std::string>(),
               i["DockerRootDir"].get<std::string>());
    fmt::print(" Rootless: {}\n State Root: {}\n Config Dir: {}\n", i["Rootless"].get<bool>(),
               i["StateRoot"].get<std::string>(), i["ConfigDir"].get<std::string>());
    fmt::print(" Debug Mode: {}\n", ctx.debug);
    return 0;
}

namespace {

std::string percent(uint64_t part, uint64_t whole) {
    return whole == 0 ? "0%" : fmt::format("{}%", part * 100 / whole);
}

void print_df(const json& d, bool verbose) {
    uint64_t img_reclaim = 0, ctr_size = 0, ctr_reclaim = 0, vol_size = 0, vol_reclaim = 0;
    int img_active = 0, ctr_active = 0, vol_active = 0;
    for (auto& i : d["Images"]) {
        if (i["Containers"].get<int>() > 0)
            ++img_active;
        else
            img_reclaim += i["Size"].get<uint64_t>();
    }
    for (auto& c : d["Containers"]) {
        uint64_t s = c["SizeRw"].get<uint64_t>();
        ctr_size += s;
        if (c["State"] == "running" || c["State"] == "paused")
            ++ctr_active;
        else
            ctr_reclaim += s;
    }
    for (auto& v : d["Volumes"]) {
        uint64_t s = v["Size"].get<uint64_t>();
        vol_size += s;
        if (v["RefCount"].get<int>() > 0)
            ++vol_active;
        else
            vol_reclaim += s;
    }
    uint64_t layers = d["LayersSize"].get<uint64_t>();
    img_reclaim = std::min(img_reclaim, layers);
    if (!verbose) {
        auto row = [](const char* type, size_t total, int active, uint64_t size,
                      const std::string& reclaim) {
            fmt::print("{:<16}{:<10}{:<10}{:<10}{}\n", type, total, active, human_size(size),
                       reclaim);
        };
        fmt::print("{:<16}{:<10}{:<10}{:<10}{}\n", "TYPE", "TOTAL", "ACTIVE", "SIZE",
                   "RECLAIMABLE");
        row("Images", d["Images"].size(), img_active, layers,
            fmt::format("{} ({})", human_size(img_reclaim), percent(img_reclaim, layers)));
        row("Containers", d["Containers"].size(), ctr_active, ctr_size,
            fmt::format("{} ({})", human_size(ctr_reclaim), percent(ctr_reclaim, ctr_size)));
        row("Local Volumes", d["Volumes"].size(), vol_active, vol_size,
            fmt::format("{} ({})", human_size(vol_reclaim), percent(vol_reclaim, vol_size)));
        row("Build Cache", 0, 0, 0, "0B");
        return;
    }
    fmt::print("Images space usage:\n\n{:<30}{:<15}{:<15}{:<12}{}\n", "REPOSITORY", "TAG",
               "IMAGE ID", "SIZE", "CONTAINERS");
    for (auto& i : d["Images"]) {
        std::vector<std::string> tags = i["RepoTags"];
        if (tags.empty()) tags.emplace_back("<none>:<none>");
        for (auto& t : tags) {
            size_t colon = t.rfind(':');
            fmt::print("{:<30}{:<15}{:<15}{:<12}{}\n", t.substr(0, colon), t.substr(colon + 1),
                       short_id(i["Id"].get<std::string>()), human_size(i["Size"].get<uint64_t>()),
                       i["Containers"].get<int>());
        }
    }
    fmt::print("\nContainers space usage:\n\n{:<15}{:<20}{:<22}{:<10}{:<10}{}\n", "CONTAINER ID",
               "IMAGE", "COMMAND", "SIZE", "STATE", "NAMES");
    for (auto& c : d["Containers"]) {
        std::string cmd = c["Command"].get<std::string>();
        if (cmd.size() > 20) cmd = cmd.substr(0, 19) + "…";
        fmt::print("{:<15}{:<20}{:<22}{:<10}{:<10}{}\n", short_id(c["Id"].get<std::string>()),
                   c["Image"].get<std::string>(), "\"" + cmd + "\"",
                   human_size(c["SizeRw"].get<uint64_t>()), c["State"].get<std::string>(),
                   c["Names"][0].get<std::string>());
    }
    fmt::print("\nLocal Volumes space usage:\n\n{:<66}{:<8}{}\n", "VOLUME NAME", "LINKS", "SIZE");
    for (auto& v : d["Volumes"])
        fmt::print("{:<66}{:<8}{}\n", v["Name"].get<std::string>(), v["RefCount"].get<int>(),
                   human_size(v["Size"].get<uint64_t>()));
    fmt::print("\nBuild cache usage: 0B\n");
}

struct SystemFlags {
    bool verbose = false, all = false, volumes = false, force = false;
    std::string format;
};

void add_system(CLI::App& app, Context& ctx, Commands& cmds) {
    auto f = std::make_shared<SystemFlags>();
    auto* sys = app.add_subcommand("system", "disk usage, pruning, information");
    sys->require_subcommand(1);

    auto* df = sys->add_subcommand("df", "disk space used by images, containers and volumes");
    df->add_flag("-v,--verbose", f->verbose, "every image, container and volume");
    df->add_option("--format", f->format, "json, or a template");
    cmds.on(df, [f, &ctx] {
        json d = engine::disk_usage(engine_context(ctx), ctx.store());
        if (!f->format.empty())
            fmt::print("{}\n", render_format(f->format, d));
        else
            print_df(d, f->verbose);
        return 0;
    });

    auto* prune = sys->add_subcommand("prune", "remove stopped containers and unused images");
    prune->add_flag("-a,--all", f->all, "every image no container uses, not only unnamed ones");
    prune->add_flag("--volumes", f->volumes, "unused anonymous volumes too");
    prune->add_flag("-f,--force", f->force, "do not ask");
    cmds.on(prune, [f, &ctx] {
        std::string warn = "WARNING! This will remove:\n  - all stopped containers\n";
        if (f->volumes) warn += "  - all anonymous volumes not used by at least one container\n";
        warn += f->all ? "  - all images without at least one container associated to them\n"
                       : "  - all dangling images\n";
        if (!confirmed(warn, f->force)) return 0;
        auto ec = engine_context(ctx);
        auto c = engine::prune_containers(ec);
        print_prune("Containers", c, false);
        engine::PruneReport v;
        if (f->volumes) {
            v = engine::prune_volumes(ec, false);
            print_prune("Volumes", v, false);
        }
        auto i = engine::prune_images(ec, ctx.store(), f->all);
        print_prune("Images", i, false);
        fmt::print("Total reclaimed space: {}\n",
                   human_size(c.reclaimed + v.reclaimed + i.reclaimed));
        return 0;
    });

    auto* migrate = sys->add_subcommand(
        "migrate",
        "as a user whose /etc/subuid or /etc/subgid range changed: give the images, containers "
        "and volumes the owners of the new range");
    cmds.on(migrate, [&ctx] {
        ctx.range_warning = false;  // what the warning asks for is being done
        auto r = engine::migrate_store(engine_context(ctx), ctx.store());
        if (!r.migrated) {
            fmt::print("nothing to migrate: the store's owners are those of the user's ranges\n");
            return 0;
        }
        fmt::print(
            "migrated \"{}\" to the uids and gids of /etc/subuid and /etc/subgid ({} "
            "container{})\n",
            ctx.store().root(), r.containers, r.containers == 1 ? "" : "s");
        return 0;
    });

    auto* info = sys->add_subcommand("info", "what husk and this host are");
    info->add_option("-f,--format", f->format, "json, or a template: {{.KernelVersion}}");
    cmds.on(info, [f, &ctx] { return print_info(ctx, f->format); });
}

}  // namespace

HUSK_COMMAND(system, add_system);

}  // namespace husk::cli
