// husk login [-u USER] [-p PASS | --password-stdin] REGISTRY / husk logout REGISTRY
#include <unistd.h>

#include <iostream>

#include <fmt/format.h>

#include "cli/husk/command.h"
#include "cli/husk/util.h"
#include "image/auth.h"
#include "image/pull.h"
#include "image/registry.h"
#include "image/store.h"
#include "sys/error.h"

namespace husk::cli {
namespace {

std::string registry_host(std::string r) {
    for (std::string_view p : {"https://", "http://"})
        if (r.starts_with(p)) r = r.substr(p.size());
    r = r.substr(0, r.find('/'));
    if (r == "index.docker.io" || r == "registry-1.docker.io") r = "docker.io";
    return r;
}

void add_login(CLI::App& app, Context& ctx, Commands& cmds) {
    struct Opts {
        std::string registry = "docker.io";
        std::string user, password;
        bool password_stdin = false;
        RegistryFlags reg;
    };
    auto o = std::make_shared<Opts>();
    auto* sub = app.add_subcommand("login", "log in to a registry (checks the credentials)");
    sub->add_option("registry", o->registry)->capture_default_str();
    sub->add_option("-u,--username", o->user)->required();
    sub->add_option("-p,--password", o->password);
    sub->add_flag("--password-stdin", o->password_stdin);
    o->reg.add(sub);
    cmds.on(sub, [o, &ctx] {
        std::string host = registry_host(o->registry);
        if (o->password_stdin) {
            std::getline(std::cin, o->password);
        } else if (o->password.empty()) {
            throw Error("no password: use -p or --password-stdin");
        }
        image::CredentialStore store(image::auth_file_path(ctx.root));
        image::RegistryOptions ro = o->reg.options(ctx, store);
        ro.credentials = image::Credentials{o->user, o->password, {}};
        image::RegistryClient client(host, "", ro);
        client.ping();
        ctx.store();  // the data root must exist
        store.husk_file().store(host, *ro.credentials);
        fmt::print("Login Succeeded\n");
        return 0;
    });
}

void add_logout(CLI::App& app, Context& ctx, Commands& cmds) {
    auto reg = std::make_shared<std::string>("docker.io");
    auto* sub = app.add_subcommand("logout", "forget the credentials of a registry");
    sub->add_option("registry", *reg)->capture_default_str();
    cmds.on(sub, [reg, &ctx] {
        std::string host = registry_host(*reg);
        image::AuthFile f(image::auth_file_path(ctx.root));
        if (!f.erase(host)) throw Error(fmt::format("not logged in to {}", host));
        fmt::print("Removed login credentials for {}\n", host);
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(login, add_login);
HUSK_COMMAND(logout, add_logout);

}  // namespace husk::cli
