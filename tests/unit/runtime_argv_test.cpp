// husk-runtime's two parsers of the lifecycle verbs agree: for every argv spelling podman
// (through conmon), containerd's runc shim v2, CRI-O and docker use
// (/work/shared/client-calls.md), the hand parser (fast_path.cpp) either makes the same
// request CLI11 makes or declines and leaves it to CLI11; the spellings engines send for
// each container are taken by the hand parser (that is its reason to be); bad spellings get
// CLI11's one-line error. And entry.c finds the verb behind the same global options.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

#include "cli/runtime/commands.h"
#include "cli/runtime/entry.h"

using husk::cli::Globals;
using husk::cli::LifecycleRequest;

namespace {

struct Argv {
    std::vector<std::string> words;
    std::vector<char*> ptrs;
    explicit Argv(std::vector<std::string> w) : words(std::move(w)) {
        words.insert(words.begin(), "husk-runtime");
        for (auto& s : words) ptrs.push_back(s.data());
        ptrs.push_back(nullptr);
    }
    int argc() const { return static_cast<int>(words.size()); }
    char** argv() { return ptrs.data(); }
};

struct Parsed {
    Globals g;
    bool root_given = false;
    LifecycleRequest r;
};

std::optional<Parsed> by_hand(const std::vector<std::string>& words) {
    Argv a(words);
    Parsed p;
    p.g.verb = husk::cli::verb_of(a.argc(), a.argv());
    if (!husk::cli::parse_fast_path(a.argc(), a.argv(), p.g, p.root_given, p.r))
        return std::nullopt;
    return p;
}

// CLI11 as main.cpp sets it up, with every verb (the hand parser's verbs and the others,
// whose names a typo may be near); the error's text when it refuses argv.
std::optional<Parsed> by_cli11(const std::vector<std::string>& words, std::string& error) {
    Argv a(words);
    Parsed p;
    CLI::App app{"husk-runtime", "husk-runtime"};
    husk::cli::add_global_options(app, p.g);
    app.require_subcommand(1);
    husk::cli::add_lifecycle_commands(app, p.g, p.r);
    husk::cli::add_info_commands(app, p.g);
    husk::cli::add_resource_commands(app, p.g);
    husk::cli::add_exec_command(app, p.g);
    try {
        app.parse(a.argc(), a.argv());
    } catch (const CLI::ParseError& e) {
        error = e.what();
        return std::nullopt;
    }
    p.root_given = app.get_option("--root")->count() != 0;
    return p;
}

// Every field a lifecycle verb runs with.
std::string describe(const Parsed& p) {
    const auto& c = p.r.create;
    return "verb=" + p.r.verb + " id=" + c.id + " bundle=" + c.bundle + " pid_file=" + c.pid_file +
           " console=" + c.console_socket + " no_pivot=" + std::to_string(c.no_pivot) +
           " no_new_keyring=" + std::to_string(c.no_new_keyring) +
           " preserve_fds=" + std::to_string(c.preserve_fds) +
           " detach=" + std::to_string(p.r.detach) + " keep=" + std::to_string(p.r.keep) +
           " force=" + std::to_string(p.r.force) + " all=" + std::to_string(p.r.all) +
           " signal=" + p.r.signal + " | root=" + p.g.root +
           " root_given=" + std::to_string(p.root_given) + " log=" + p.g.log +
           " log_format=" + p.g.log_format + " debug=" + std::to_string(p.g.debug) +
           " systemd_cgroup=" + std::to_string(p.g.systemd_cgroup) + " rootless=" + p.g.rootless;
}

enum class Expect {
    hand,     // the hand parser takes it, and makes CLI11's request
    cli11,    // the hand parser may decline; CLI11 takes it (same request if both do)
    refused,  // CLI11 refuses it with one line; the hand parser declines
};

struct Case {
    std::vector<std::string> argv;
    Expect expect;
};

const std::string kContainerd[] = {"--root",       "/run/containerd/runc/k8s.io",
                                   "--log",        "/run/containerd/B/log.json",
                                   "--log-format", "json"};

std::vector<std::string> containerd(std::vector<std::string> verb) {
    std::vector<std::string> out(std::begin(kContainerd), std::end(kContainerd));
    out.insert(out.end(), verb.begin(), verb.end());
    return out;
}

std::vector<Case> cases() {
    return {
        // podman through conmon
        {{"create", "--bundle", "/ud/c1", "--pid-file", "/rud/pidfile", "c1"}, Expect::hand},
        {{"create", "--bundle", "/ud/c1", "--pid-file", "/rud/pidfile", "--console-socket",
          "/tmp/conmon-term.X", "c1"},
         Expect::hand},
        {{"start", "c1"}, Expect::hand},
        {{"delete", "--force", "c1"}, Expect::hand},
        {{"kill", "c1", "9"}, Expect::hand},
        {{"kill", "c1", "15"}, Expect::hand},
        {{"--log-format=json", "--log=/rud/c1/oci-log", "create", "--bundle", "/ud/c1", "c1"},
         Expect::hand},
        {{"--systemd-cgroup", "create", "--bundle", "/ud/c1", "c1"}, Expect::hand},
        {{"--root", "/run/user/1000/husk", "--systemd-cgroup", "delete", "--force", "c1"},
         Expect::hand},
        // containerd's runc shim v2 (and CRI-O, which spells them the same way)
        {containerd({"create", "--bundle", "/b", "--pid-file", "/b/init.pid", "c1"}), Expect::hand},
        {containerd({"create", "--bundle", "/b", "--pid-file", "/b/init.pid", "--console-socket",
                     "/tmp/pty1/pty.sock", "c1"}),
         Expect::hand},
        {containerd({"create", "--bundle", "/b", "--pid-file", "/b/init.pid", "--no-pivot",
                     "--no-new-keyring", "c1"}),
         Expect::hand},
        {containerd({"create", "--bundle", "/b", "--preserve-fds", "2", "c1"}), Expect::hand},
        {containerd({"start", "c1"}), Expect::hand},
        {containerd({"delete", "c1"}), Expect::hand},
        {containerd({"delete", "--force", "c1"}), Expect::hand},
        {containerd({"kill", "c1", "9"}), Expect::hand},
        {containerd({"kill", "--all", "c1", "9"}), Expect::hand},
        {{"--root", "/run/runc", "--systemd-cgroup", "create", "--bundle", "/b", "c1"},
         Expect::hand},
        // docker (moby through containerd) and the other spellings runc's flags allow
        {{"--root", "/var/run/docker/runtime-runc/moby", "--log", "/b/log.json", "--log-format",
          "json", "--debug", "create", "--bundle", "/b", "--pid-file", "/b/init.pid", "c1"},
         Expect::hand},
        {{"create", "--bundle=/b", "--pid-file=/b/p", "--console-socket=/s", "c1"}, Expect::hand},
        {{"create", "-b", "/b", "c1"}, Expect::hand},
        {{"create", "c1", "--bundle", "/b"}, Expect::hand},
        {{"--root=/r", "--log-format=text", "--rootless=true", "create", "-b", "/b", "c1"},
         Expect::hand},
        {{"--criu", "/usr/sbin/criu", "start", "c1"}, Expect::hand},
        {{"run", "-d", "--bundle", "/b", "--keep", "c1"}, Expect::hand},
        {{"run", "--detach", "--preserve-fds=1", "c1"}, Expect::hand},
        {{"rm", "-f", "c1"}, Expect::hand},
        {{"kill", "-a", "c1", "SIGKILL"}, Expect::hand},
        {{"kill", "c1"}, Expect::hand},
        // spellings the hand parser leaves to CLI11
        {{"create", "--bundle", "/b", "--", "c1"}, Expect::cli11},
        {{"kill", "c1", "--", "9"}, Expect::cli11},
        {{"delete", "-f", "--", "c1"}, Expect::cli11},
        // bad spellings: CLI11's error
        {{"create", "--bundle"}, Expect::refused},
        {{"create", "--bundle", "/b"}, Expect::refused},
        {{"create", "--no-such-flag", "c1"}, Expect::refused},
        {{"start"}, Expect::refused},
        {{"start", "c1", "c2"}, Expect::refused},
        {{"delete", "--force"}, Expect::refused},
        {{"kill", "c1", "9", "extra"}, Expect::refused},
        {{"--log-format", "xml", "start", "c1"}, Expect::refused},
        {{"--rootless", "maybe", "start", "c1"}, Expect::refused},
        {{"--no-such-global", "start", "c1"}, Expect::refused},
        {{"--root", "start", "c1"}, Expect::refused},
        {{"creat", "c1"}, Expect::refused},
        {{"create", "--preserve-fds", "two", "c1"}, Expect::refused},
    };
}

std::string joined(const std::vector<std::string>& words) {
    std::string s;
    for (const auto& w : words) s += (s.empty() ? "" : " ") + w;
    return s;
}

TEST(RuntimeArgv, HandParserAndCli11MakeTheSameRequest) {
    for (const auto& c : cases()) {
        SCOPED_TRACE(joined(c.argv));
        auto hand = by_hand(c.argv);
        std::string error;
        auto cli = by_cli11(c.argv, error);
        switch (c.expect) {
            case Expect::hand:
                ASSERT_TRUE(hand) << "the hand parser declined an engine's spelling";
                ASSERT_TRUE(cli) << error;
                EXPECT_EQ(describe(*hand), describe(*cli));
                break;
            case Expect::cli11:
                ASSERT_TRUE(cli) << error;
                if (hand) {
                    EXPECT_EQ(describe(*hand), describe(*cli));
                }
                break;
            case Expect::refused:
                EXPECT_FALSE(hand) << describe(*hand);
                ASSERT_FALSE(cli) << describe(*cli);
                EXPECT_FALSE(error.empty());
                EXPECT_EQ(error.find('\n'), std::string::npos) << error;
                break;
        }
    }
}

// entry.c's verb (the re-exec decision before the C library starts) is the verb both
// parsers see, behind every global option of the table in either spelling.
TEST(RuntimeArgv, EntryPointFindsTheVerbBehindTheGlobalOptions) {
    for (const auto& c : cases()) {
        SCOPED_TRACE(joined(c.argv));
        std::string error;
        auto cli = by_cli11(c.argv, error);
        if (!cli) continue;
        Argv a(c.argv);
        const char* verb = husk_runtime_verb(a.argc(), a.argv());
        ASSERT_NE(verb, nullptr);
        EXPECT_EQ(std::string(verb) == "rm" ? "delete" : verb, cli->r.verb);
        EXPECT_EQ(husk_runtime_verb_clones(verb) != 0,
                  cli->r.verb == "create" || cli->r.verb == "run");
    }
}

}  // namespace
