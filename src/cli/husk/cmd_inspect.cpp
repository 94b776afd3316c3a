// husk inspect [-f FORMAT] CONTAINER...   docker's array of container objects
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/husk/container_cmd.h"
#include "cli/template/template.h"
#include "engine/inspect.h"
#include "engine/lifecycle.h"

namespace husk::cli {
namespace {

struct InspectFlags {
    std::string format;
    std::vector<std::string> names;
};

void add_inspect(CLI::App& app, Context& ctx, Commands& cmds) {
    auto f = std::make_shared<InspectFlags>();
    auto* sub = app.add_subcommand("inspect", "low-level information on containers (JSON)");
    sub->add_option("-f,--format", f->format, "a template: {{.State.Status}}");
    sub->add_option("containers", f->names, "containers")->required();
    cmds.on(sub, [f, &ctx] {
        auto ec = engine_context(ctx);
        nlohmann::json all = nlohmann::json::array();
        int rc = for_each_container(f->names, [&](const std::string& n) {
            all.push_back(nlohmann::json::parse(engine::inspect_json(ec, engine::lookup(ec, n))));
        });
        if (!f->format.empty()) {
            for (auto& o : all) fmt::print("{}", tmpl::format_object(f->format, o));
        } else {
            fmt::print("{}\n", all.dump(4));
        }
        return rc;
    });
}

}  // namespace

HUSK_COMMAND(inspect, add_inspect);

}  // namespace husk::cli
