// husk info [--format TEMPLATE]: the same page as `husk system info`.
#include "cli/husk/prune_output.h"

namespace husk::cli {
namespace {

void add_info(CLI::App& app, Context& ctx, Commands& cmds) {
    auto format = std::make_shared<std::string>();
    auto* sub = app.add_subcommand("info", "what husk and this host are");
    sub->add_option("-f,--format", *format, "json, or a template: {{.KernelVersion}}");
    cmds.on(sub, [format, &ctx] { return print_info(ctx, *format); });
}

}  // namespace

HUSK_COMMAND(info, add_info);

}  // namespace husk::cli
