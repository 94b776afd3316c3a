// husk version [--format TEMPLATE]: client, engine, runtime, kernel, cgroup mode, storage.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/husk/container_cmd.h"
#include "engine/system.h"

namespace husk::cli {
namespace {

void add_version(CLI::App& app, Context&, Commands& cmds) {
    auto format = std::make_shared<std::string>();
    auto* sub = app.add_subcommand("version", "versions of husk, its runtime and the host");
    sub->add_option("-f,--format", *format, "json, or a template: {{.Server.Version}}");
    cmds.on(sub, [format] {
        auto v = engine::version_info();
        if (!format->empty()) {
            fmt::print("{}\n", render_format(*format, v));
            return 0;
        }
        auto& c = v["Client"];
        auto& s = v["Server"];
        auto& r = s["Runtime"];
        fmt::print(
            "Client:\n Version:           {}\n Compiler:          {}\n OS/Arch:           "
            "{}/{}\n\n",
            c["Version"].get<std::string>(), c["Compiler"].get<std::string>(),
            c["Os"].get<std::string>(), c["Arch"].get<std::string>());
        fmt::print(
            "Server: husk\n Engine:\n  Version:          {}\n  Kernel:           {}\n"
            "  Cgroup version:   {}\n  Storage driver:   {}\n",
            s["Version"].get<std::string>(), s["KernelVersion"].get<std::string>(),
            s["CgroupVersion"].get<std::string>(), s["StorageDriver"].get<std::string>());
        fmt::print(" {}:\n  Version:          {}\n  OCI spec:         {}\n",
                   r["Name"].get<std::string>(), r["Version"].get<std::string>(),
                   r["OciVersion"].get<std::string>());
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(version, add_version);

}  // namespace husk::cli
