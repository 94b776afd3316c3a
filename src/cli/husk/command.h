// The `husk` front end: each subcommand lives in its own cmd_<name>.cpp and
// registers itself with HUSK_COMMAND; main.cpp parses the global flags and runs
// the handler of the (innermost) subcommand chosen.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace husk::image {
class Store;
}

namespace husk::cli {

struct Context {
    std::string root = "/var/lib/husk";
    bool debug = false;

    // opened on first use; as a user whose /etc/subuid range moved under it, with a warning
    // saying what to run (image::Store::ranges_moved) unless `range_warning` is off (the
    // command that migrates)
    image::Store& store();
    bool range_warning = true;

  private:
    std::shared_ptr<image::Store> store_;
};

// A handler returns the process exit code.
using Handler = std::function<int()>;

class Commands {
  public:
    void on(CLI::App* sub, Handler h) { handlers_[sub] = std::move(h); }
    const Handler* find(CLI::App* sub) const {
        auto it = handlers_.find(sub);
        return it == handlers_.end() ? nullptr : &it->second;
    }

  private:
    std::map<CLI::App*, Handler> handlers_;
};

using CommandFactory = void (*)(CLI::App& app, Context& ctx, Commands& cmds);

struct CommandRegistration {
    CommandRegistration(const char* name, CommandFactory f);
};

// Every registered factory, by name.
const std::map<std::string, CommandFactory>& command_factories();

// docker's management form `GROUP VERB` ("container ls", "image rm") as the top-level
// command that does it ("ps", "rmi"); nullopt when the pair is no alias (a real
// subcommand of the group, or unknown). The caller checks that the command exists.
std::optional<std::string> management_alias(const std::string& group, const std::string& verb);

#define HUSK_COMMAND(name, factory) \
    static const ::husk::cli::CommandRegistration husk_command_##name(#name, factory)

}  // namespace husk::cli
