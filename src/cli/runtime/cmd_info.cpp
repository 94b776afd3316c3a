// state, list, ps, features, spec.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/runtime/commands.h"
#include "oci/spec.h"
#include "oci/state.h"
#include "runtime/container.h"
#include "runtime/features.h"
#include "sys/error.h"
#include "sys/fileutil.h"

namespace husk::cli {
namespace {

using nlohmann::json;

void print(const std::string& s) {
    std::fwrite(s.data(), 1, s.size(), stdout);
}

json state_json(const oci::State& s) {
    return json::parse(oci::dump_state(s));
}

void print_list(const std::vector<oci::State>& states, const std::string& format, bool quiet) {
    if (quiet) {
        for (const auto& s : states) print(s.id + "\n");
        return;
    }
    if (format == "json") {
        json arr = json::array();
        for (const auto& s : states) arr.push_back(state_json(s));
        print(arr.dump() + "\n");
        return;
    }
    print(fmt::format("{:<12} {:<8} {:<10} {:<40} {:<31} {}\n", "ID", "PID", "STATUS", "BUNDLE",
                      "CREATED", "OWNER"));
    for (const auto& s : states)
        print(fmt::format("{:<12} {:<8} {:<10} {:<40} {:<31} {}\n", s.id, s.pid, s.status, s.bundle,
                          s.created, s.owner));
}

// `ps ID [ps-args]`: the host's ps output, only the lines of the container's pids.
void print_ps_table(const std::vector<pid_t>& pids, std::vector<std::string> args) {
    if (args.empty()) args = {"-ef"};
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) throw_sys("pipe");
    pid_t child = ::fork();
    if (child < 0) throw_sys("fork");
    if (child == 0) {
        ::dup2(pipefd[1], 1);
        std::vector<char*> argv{const_cast<char*>("ps")};
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execvp("ps", argv.data());
        ::_exit(127);
    }
    ::close(pipefd[1]);
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(pipefd[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw Error("ps failed");
    std::istringstream in(out);
    std::string header;
    std::getline(in, header);
    // Find the PID column from the header.
    std::istringstream hs(header);
    std::string col;
    int pid_col = -1;
    for (int i = 0; hs >> col; ++i)
        if (col == "PID") pid_col = i;
    if (pid_col < 0) throw Error("ps output has no PID column");
    std::set<pid_t> want(pids.begin(), pids.end());
    print(header + "\n");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string field;
        for (int i = 0; i <= pid_col && ls >> field; ++i) {
        }
        try {
            if (want.count(std::stoi(field))) print(line + "\n");
        } catch (...) {
        }
    }
}

}  // namespace

void add_info_commands(CLI::App& app, Globals& g) {
    if (g.wants("state")) {
        static std::string state_id;
        auto* st = app.add_subcommand("state", "print the state of a container as JSON");
        st->add_option("id", state_id, "container id")->required();
        st->callback([&g] { print(oci::dump_state(runtime::state(g.root, state_id)) + "\n"); });
    }

    if (g.wants("list", "ls")) {
        static std::string list_format = "table";
        static bool quiet = false;
        auto* ls = app.add_subcommand("list", "list containers");
        ls->alias("ls");
        ls->add_option("--format,-f", list_format, "table or json")
            ->check(CLI::IsMember({"table", "json"}));
        ls->add_flag("--quiet,-q", quiet, "only ids");
        ls->callback([&g] { print_list(runtime::list(g.root), list_format, quiet); });
    }

    if (g.wants("ps")) {
        static std::string ps_id, ps_format = "table";
        static std::vector<std::string> ps_args;
        auto* ps = app.add_subcommand("ps", "list the processes of a container");
        ps->add_option("--format,-f", ps_format, "table or json")
            ->check(CLI::IsMember({"table", "json"}));
        ps->add_option("id", ps_id, "container id")->required();
        ps->add_option("ps-args", ps_args, "arguments for ps (default -ef)");
        ps->callback([&g] {
            auto pids = runtime::processes(g.root, ps_id);
            std::sort(pids.begin(), pids.end());
            if (ps_format == "json") {
                print(json(pids).dump() + "\n");
            } else {
                print_ps_table(pids, ps_args);
            }
        });
    }

    if (g.wants("features")) {
        auto* features =
            app.add_subcommand("features", "print what this runtime implements (JSON)");
        features->callback([] { print(runtime::features_json() + "\n"); });
    }

    if (g.wants("spec")) {
        static std::string spec_bundle = ".";
        static bool spec_rootless = false;
        auto* spec = app.add_subcommand("spec", "write a default config.json");
        spec->add_option("--bundle,-b", spec_bundle, "where to write config.json");
        spec->add_flag("--rootless", spec_rootless, "a config for a container run without root");
        spec->callback([] {
            std::string path = spec_bundle + "/config.json";
            if (sys::exists_follow(path))
                throw Error(fmt::format("file \"{}\" exists: remove it first", path));
            sys::write_file(path, oci::dump_spec(oci::default_spec(spec_rootless)) + "\n", 0666);
        });
    }
}

}  // namespace husk::cli
