// husk network create [--subnet CIDR] [--gateway IP] [--internal] [--label K=V] [--dns IP]
//                     [--ipv6 [--subnet V6CIDR]] NAME | ls [-q] [--format] |
//              inspect NAME... | rm NAME... | prune [-f] |
//              connect [--alias A] [--ip IP] NET CONTAINER | disconnect NET CONTAINER
// User-defined networks (engine/networks.h), as docker's bridge driver has them.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/husk/container_cmd.h"
#include "cli/husk/util.h"
#include "cli/template/template.h"
#include "engine/networks.h"
#include "sys/error.h"

namespace husk::cli {
namespace {

struct NetworkFlags {
    std::vector<std::string> names, labels, subnets, aliases, dns;
    std::string gateway, ip, format;
    bool internal = false, ipv6 = false, quiet = false, force = false;
};

// docker's network ls row, and the subnet beside it.
nlohmann::json ls_row(const network::NetworkRecord& n) {
    return {{"ID", n.id.substr(0, 12)},
            {"Name", n.name},
            {"Driver", "bridge"},
            {"Scope", "local"},
            {"IPv6", !n.subnet6.empty()},
            {"Internal", n.internal},
            {"Labels", labels_text(n.labels)},
            {"CreatedAt", n.created},
            {"Subnet", n.subnet}};
}

void add_create(CLI::App* net, Context& ctx, Commands& cmds,
                const std::shared_ptr<NetworkFlags>& f) {
    auto* create = net->add_subcommand("create", "create a network");
    create
        ->add_option("--subnet", f->subnets, "subnet in CIDR form (one IPv4, one IPv6 with --ipv6)")
        ->allow_extra_args(false);
    create->add_option("--gateway", f->gateway, "IPv4 gateway of the subnet (its first address)");
    create->add_flag("--internal", f->internal, "no way out: no default route, no masquerade");
    create->add_flag("--ipv6", f->ipv6, "IPv6 too");
    create->add_option("--label", f->labels, "KEY=VALUE")->allow_extra_args(false);
    create->add_option("--dns", f->dns, "name server for the names no container has (as podman's)")
        ->allow_extra_args(false);
    create->add_option("-d,--driver", f->format, "bridge (the only driver)");
    create->add_option("name", f->names)->required();
    cmds.on(create, [f, &ctx] {
        if (!f->format.empty() && f->format != "bridge")
            throw Error(
                fmt::format("plugin \"{}\" not found (husk has the bridge driver)", f->format));
        network::NetworkSpec spec;
        spec.name = f->names.at(0);
        spec.internal = f->internal;
        spec.ipv6 = f->ipv6;
        spec.gateway = f->gateway;
        spec.dns = f->dns;
        for (auto& s : f->subnets)
            (s.find(':') != std::string::npos ? spec.subnet6 : spec.subnet) = s;
        for (auto& l : f->labels) {
            auto eq = l.find('=');
            spec.labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
        }
        auto n = engine::create_network(engine_context(ctx), spec);
        fmt::print("{}\n", n.id);
        return 0;
    });
}

void add_network(CLI::App& app, Context& ctx, Commands& cmds) {
    auto f = std::make_shared<NetworkFlags>();
    auto* net = app.add_subcommand("network", "manage networks");
    net->require_subcommand(1);
    add_create(net, ctx, cmds, f);

    auto* ls = net->add_subcommand("ls", "list networks");
    ls->alias("list");
    ls->add_flag("-q,--quiet", f->quiet, "only the ids");
    ls->add_option("--format", f->format,
                   "json, table, or a template: {{.Name}} {{.ID}} {{.Subnet}} ...");
    cmds.on(ls, [f, &ctx] {
        auto all = engine::list_networks(engine_context(ctx));
        if (!f->quiet && !f->format.empty()) {
            static const nlohmann::json headers = {
                {"ID", "NETWORK ID"}, {"Name", "NAME"},         {"Driver", "DRIVER"},
                {"Scope", "SCOPE"},   {"IPv6", "IPV6"},         {"Internal", "INTERNAL"},
                {"Labels", "LABELS"}, {"CreatedAt", "CREATED"}, {"Subnet", "SUBNET"}};
            std::vector<nlohmann::json> rows;
            std::vector<Labels> labels;
            rows.reserve(all.size());
            for (auto& n : all) {
                rows.push_back(ls_row(n));
                labels.push_back(n.labels);
            }
            auto methods = label_methods(labels);
            fmt::print("{}", tmpl::format_rows(f->format, rows, headers,
                                               "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}",
                                               &methods));
            return 0;
        }
        if (!f->quiet)
            fmt::print("{:<14}{:<24}{:<10}{}\n", "NETWORK ID", "NAME", "DRIVER", "SCOPE");
        for (auto& n : all) {
            if (f->quiet)
                fmt::print("{}\n", n.id.substr(0, 12));
            else
                fmt::print("{:<14}{:<24}{:<10}{}\n", n.id.substr(0, 12), n.name, "bridge", "local");
        }
        return 0;
    });

    auto* inspect = net->add_subcommand("inspect", "networks as JSON");
    inspect->add_option("names", f->names)->required();
    cmds.on(inspect, [f, &ctx] {
        auto ec = engine_context(ctx);
        auto out = nlohmann::json::array();
        int rc = for_each_container(f->names, [&](const std::string& n) {
            out.push_back(engine::inspect_network(ec, engine::get_network(ec, n)));
        });
        fmt::print("{}\n", out.dump(4));
        return rc;
    });

    auto* rm = net->add_subcommand("rm", "remove networks (not ones a container is on)");
    rm->alias("remove");
    rm->add_option("names", f->names)->required();
    cmds.on(rm, [f, &ctx] {
        auto ec = engine_context(ctx);
        return for_each_container(f->names, [&](const std::string& n) {
            engine::remove_network(ec, n);
            fmt::print("{}\n", n);
        });
    });

    auto* prune = net->add_subcommand("prune", "remove every network no container is on");
    prune->add_flag("-f,--force", f->force, "do not ask (husk never asks)");
    cmds.on(prune, [&ctx] {
        auto gone = engine::prune_networks(engine_context(ctx));
        if (!gone.empty()) fmt::print("Deleted Networks:\n");
        for (auto& n : gone) fmt::print("{}\n", n);
        return 0;
    });

    auto* connect = net->add_subcommand("connect", "connect a container to a network");
    connect->add_option("--alias", f->aliases, "a name of the container on this network")
        ->allow_extra_args(false);
    connect->add_option("--ip", f->ip, "its IPv4 address on this network");
    connect->add_option("names", f->names, "NETWORK CONTAINER")->required()->expected(2);
    cmds.on(connect, [f, &ctx] {
        engine::connect_network(engine_context(ctx), f->names.at(0), f->names.at(1), f->aliases,
                                f->ip);
        return 0;
    });

    auto* disconnect = net->add_subcommand("disconnect", "disconnect a container from a network");
    disconnect->add_flag("-f,--force", f->force, "(accepted, as docker's)");
    disconnect->add_option("names", f->names, "NETWORK CONTAINER")->required()->expected(2);
    cmds.on(disconnect, [f, &ctx] {
        engine::disconnect_network(engine_context(ctx), f->names.at(0), f->names.at(1));
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(network, add_network);

}  // namespace husk::cli
