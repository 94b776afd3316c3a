// The Dockerfile parser, the builder's shell-word rules, .dockerignore and the config
// changes (husk build, husk commit -c): pure functions.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "build/changes.h"
#include "build/context.h"
#include "build/dockerfile.h"
#include "error_of.h"
#include "sys/error.h"

using namespace husk::build;
using nlohmann::json;

namespace {

Lookup vars(std::map<std::string, std::string> m) {
    return [m](std::string_view n) -> std::optional<std::string> {
        if (auto it = m.find(std::string(n)); it != m.end()) return it->second;
        return std::nullopt;
    };
}

TEST(Dockerfile, InstructionsKeepTheirLineNumbers) {
    auto df =
        parse_dockerfile("# a comment\n\nFROM busybox AS base\n  run echo hi\n\nCMD [\"sh\"]\n");
    ASSERT_EQ(df.instructions.size(), 3u);
    EXPECT_EQ(df.instructions[0].keyword, "FROM");
    EXPECT_EQ(df.instructions[0].line, 3);
    EXPECT_EQ(df.instructions[0].args, "busybox AS base");
    EXPECT_EQ(df.instructions[1].keyword, "RUN");  // keywords are case-insensitive
    EXPECT_EQ(df.instructions[1].line, 4);
    EXPECT_EQ(df.instructions[2].line, 6);
}

TEST(Dockerfile, ContinuationsJoinLinesAndSkipCommentsInside) {
    auto df = parse_dockerfile("FROM x\nRUN echo a \\\n# inside\n\n    && echo b\nENV A=1\n");
    ASSERT_EQ(df.instructions.size(), 3u);
    EXPECT_EQ(df.instructions[1].args, "echo a     && echo b");
    EXPECT_EQ(df.instructions[1].line, 2);
    EXPECT_EQ(df.instructions[2].line, 6);
}

TEST(Dockerfile, EscapeDirectiveChangesTheContinuationCharacter) {
    auto df = parse_dockerfile("# escape=`\nFROM x\nRUN dir c:\\ `\n  && echo\n");
    EXPECT_EQ(df.escape, '`');
    ASSERT_EQ(df.instructions.size(), 2u);
    EXPECT_EQ(df.instructions[1].args, "dir c:\\   && echo");
}

TEST(Dockerfile, SyntaxDirectiveIsNotedAndLaterDirectivesAreComments) {
    auto df = parse_dockerfile("# syntax=docker/dockerfile:1\nFROM x\n# escape=`\nRUN a \\\n b\n");
    EXPECT_EQ(df.syntax, "docker/dockerfile:1");
    EXPECT_EQ(df.escape, '\\');
    EXPECT_EQ(df.instructions[1].args, "a  b");
}

TEST(Dockerfile, ExecFormIsAJsonArrayOfStrings) {
    auto df =
        parse_dockerfile("FROM x\nCMD [\"echo\", \"a b\"]\nCMD [echo]\nENTRYPOINT [\"a\", 1]\n");
    EXPECT_TRUE(df.instructions[1].exec_form);
    EXPECT_EQ(df.instructions[1].argv, (std::vector<std::string>{"echo", "a b"}));
    EXPECT_FALSE(df.instructions[2].exec_form);  // not JSON: the shell form
    EXPECT_FALSE(df.instructions[3].exec_form);  // not all strings
}

TEST(Dockerfile, FlagsAreSeparatedFromArguments) {
    auto df = parse_dockerfile("FROM x\nCOPY --from=build --chown=1:2 /a /b\n");
    auto& c = df.instructions[1];
    EXPECT_EQ(c.flags, (std::vector<std::string>{"--from=build", "--chown=1:2"}));
    EXPECT_EQ(c.args, "/a /b");
    EXPECT_EQ(c.flag("from"), "build");
    EXPECT_EQ(c.flag("chmod"), std::nullopt);
    EXPECT_EQ(c.original, "COPY --from=build --chown=1:2 /a /b");
}

TEST(Dockerfile, HeredocsTakeTheLinesUpToTheirDelimiter) {
    auto df = parse_dockerfile(
        "FROM x\nRUN <<EOF\necho $A\necho two\nEOF\nRUN <<-\"END\"\n\techo tab\n\tEND\nCMD x\n");
    ASSERT_EQ(df.instructions.size(), 4u);
    ASSERT_EQ(df.instructions[1].heredocs.size(), 1u);
    EXPECT_EQ(df.instructions[1].heredocs[0].content, "echo $A\necho two\n");
    EXPECT_TRUE(df.instructions[1].heredocs[0].expand);
    EXPECT_EQ(df.instructions[2].heredocs[0].content, "echo tab\n");
    EXPECT_FALSE(df.instructions[2].heredocs[0].expand);
    EXPECT_EQ(df.instructions[3].line, 9);
}

TEST(Dockerfile, HeredocWordsAsBuildKitReadsThem) {
    auto df = parse_dockerfile(
        "FROM x\nRUN python3 <<EOF > /out\nprint(1)\nEOF\n"
        "COPY --chmod=755 <<a.txt <<'b.txt' /dir/\nA $X\na.txt\nB $X\nb.txt\n"
        "RUN <<E\"O\"F cat\nx\nEOF\nRUN echo '<<NOT' \"<<NOHEREDOC\"\n");
    ASSERT_EQ(df.instructions.size(), 5u);
    auto& run = df.instructions[1];
    ASSERT_EQ(run.heredocs.size(), 1u);
    EXPECT_EQ(run.heredocs[0].word, "<<EOF");
    EXPECT_EQ(run.heredocs[0].content, "print(1)\n");
    auto& copy = df.instructions[2];
    ASSERT_EQ(copy.heredocs.size(), 2u);
    EXPECT_EQ(copy.heredocs[0].name, "a.txt");
    EXPECT_TRUE(copy.heredocs[0].expand);
    EXPECT_EQ(copy.heredocs[1].name, "b.txt");
    EXPECT_FALSE(copy.heredocs[1].expand);
    EXPECT_EQ(copy.heredocs[1].content, "B $X\n");
    EXPECT_EQ(copy.flag("chmod"), "755");
    EXPECT_EQ(df.instructions[3].heredocs[0].name, "EOF");
    EXPECT_FALSE(df.instructions[3].heredocs[0].expand);
    EXPECT_TRUE(df.instructions[4].heredocs.empty());
    EXPECT_EQ(heredoc_word("<<"), std::nullopt);
    EXPECT_EQ(heredoc_word("a<<EOF"), std::nullopt);
    EXPECT_EQ(heredoc_word("2<<-EOF")->name, "EOF");
    EXPECT_EQ(raw_words("a 'b c' \"d\\\" e\" f\\ g"),
              (std::vector<std::string>{"a", "'b c'", "\"d\\\" e\"", "f\\ g"}));
}

TEST(Dockerfile, ErrorsNameTheLine) {
    try {
        parse_dockerfile("FROM x\n\nFOO bar\n");
        FAIL() << "no error";
    } catch (const husk::Error& e) {
        EXPECT_STREQ(e.what(), "Dockerfile:3: unknown instruction: FOO");
    }
    EXPECT_THROW(parse_dockerfile("FROM x\nRUN <<EOF\nno end\n"), husk::Error);
    EXPECT_THROW(parse_dockerfile("FROM x\nCOPY\n"), husk::Error);
}

TEST(ShellWords, SubstitutesVariablesWithDefaultsAndAlternatives) {
    auto l = vars({{"A", "1"}, {"E", ""}});
    EXPECT_EQ(expand_word("$A ${A} ${B:-dflt} ${A:-x} ${A:+alt} ${B:+alt}.", l),
              "1 1 dflt 1 alt .");
    EXPECT_EQ(expand_word("${E:-empty}", l), "empty");
    EXPECT_EQ(expand_word("${B:-${A}x}", l), "1x");
    EXPECT_EQ(expand_word("\\$A $", l), "$A $");
}

TEST(ShellWords, QuotesGroupAndSingleQuotesAreLiteral) {
    auto l = vars({{"A", "x y"}});
    EXPECT_EQ(shell_words("a \"b c\" '$A' \"$A\" d\\ e", l),
              (std::vector<std::string>{"a", "b c", "$A", "x y", "d e"}));
    EXPECT_THROW(shell_words("\"open", l), husk::Error);
    EXPECT_THROW(shell_words("${A", l), husk::Error);
}

TEST(ShellWords, KeyValuePairsAndTheLegacyForm) {
    auto l = vars({{"V", "v"}});
    auto kv = key_values("a=1 b=\"two words\" c=$V", l, '\\', true);
    ASSERT_EQ(kv.size(), 3u);
    EXPECT_EQ(kv[1], (std::pair<std::string, std::string>{"b", "two words"}));
    EXPECT_EQ(kv[2].second, "v");
    auto legacy = key_values("NAME some value", l, '\\', true);
    ASSERT_EQ(legacy.size(), 1u);
    EXPECT_EQ(legacy[0], (std::pair<std::string, std::string>{"NAME", "some value"}));
}

TEST(DockerIgnore, LastMatchWinsAndExceptionsReinclude) {
    IgnoreRules r("# comment\n*.log\n!keep.log\nbuild/\n**/tmp\n");
    EXPECT_TRUE(r.excluded("a.log"));
    EXPECT_FALSE(r.excluded("keep.log"));
    EXPECT_FALSE(r.excluded("sub/a.log"));   // '*' does not cross '/'
    EXPECT_TRUE(r.excluded("build/x/y.o"));  // below an excluded directory
    EXPECT_TRUE(r.excluded("a/b/tmp"));
    EXPECT_TRUE(r.excluded("tmp/file"));
    EXPECT_FALSE(r.excluded("src/main.c"));
    EXPECT_TRUE(r.has_exceptions());
}

TEST(Glob, StarsStopAtSlashesDoubleStarsDoNot) {
    EXPECT_TRUE(glob_match("*.txt", "a.txt"));
    EXPECT_FALSE(glob_match("*.txt", "d/a.txt"));
    EXPECT_TRUE(glob_match("d/?.txt", "d/a.txt"));
    EXPECT_TRUE(glob_match("**/a.txt", "x/y/a.txt"));
    EXPECT_TRUE(glob_match("[ab].c", "b.c"));
    EXPECT_FALSE(glob_match("[!ab].c", "b.c"));
}

TEST(ConfigChanges, CommitChangesEditTheImageConfig) {
    json cfg = {{"config", {{"Env", {"PATH=/bin"}}, {"Cmd", {"sh"}}}}};
    commit_changes({"ENV A=1 PATH=/usr/bin", "CMD [\"echo\", \"hi\"]", "EXPOSE 80 53/udp",
                    "WORKDIR /srv", "WORKDIR sub", "USER 1000", "LABEL k=v",
                    "STOPSIGNAL SIGINT"})(cfg);
    auto& c = cfg["config"];
    EXPECT_EQ(c["Env"], json({"PATH=/usr/bin", "A=1"}));
    EXPECT_EQ(c["Cmd"], json({"echo", "hi"}));
    EXPECT_TRUE(c["ExposedPorts"].contains("80/tcp"));
    EXPECT_TRUE(c["ExposedPorts"].contains("53/udp"));
    EXPECT_EQ(c["WorkingDir"], "/srv/sub");
    EXPECT_EQ(c["User"], "1000");
    EXPECT_EQ(c["Labels"]["k"], "v");
    EXPECT_EQ(c["StopSignal"], "SIGINT");
    EXPECT_THROW(commit_changes({"RUN echo"}), husk::Error);
}

// `husk import -c` and `husk commit -c` share commit_changes: the config object after
// `changes` are applied to an image config whose config is `cfg`.
json changed(const std::vector<std::string>& changes, json cfg = json::object()) {
    json image = {{"config", std::move(cfg)}};
    commit_changes(changes)(image);
    return image["config"];
}

TEST(ConfigChanges, CmdAndEntrypointTakeTheJsonAndTheShellForm) {
    EXPECT_EQ(changed({R"(CMD ["cat", "/f"])"})["Cmd"], json::array({"cat", "/f"}));
    EXPECT_EQ(changed({"CMD echo hi there"})["Cmd"],
              json::array({"/bin/sh", "-c", "echo hi there"}));
    EXPECT_EQ(changed({R"(entrypoint ["/init"])"})["Entrypoint"], json::array({"/init"}));
    // a malformed JSON form is the shell form, as docker takes it
    EXPECT_EQ(changed({"CMD [oops"})["Cmd"], json::array({"/bin/sh", "-c", "[oops"}));
}

TEST(ConfigChanges, EnvReplacesTheSameKeyAndKeepsOthers) {
    json cfg = {{"Env", {"PATH=/bin", "A=1"}}};
    auto out = changed({"ENV A=2 B=\"two words\"", "ENV C 3 4", "ENV D=$A"}, cfg);
    EXPECT_EQ(out["Env"], json::array({"PATH=/bin", "A=2", "B=two words", "C=3 4", "D=2"}));
}

TEST(ConfigChanges, LabelsPortsVolumesUserWorkdirStopsignalOnbuild) {
    auto out = changed({"LABEL a=1 b=\"x y\"", "EXPOSE 80 53/udp", "VOLUME /data /logs",
                        R"(VOLUME ["/with space"])", "USER 1000:1000", "WORKDIR /srv",
                        "STOPSIGNAL SIGINT", "ONBUILD RUN make"});
    EXPECT_EQ(out["Labels"], (json{{"a", "1"}, {"b", "x y"}}));
    EXPECT_EQ(out["ExposedPorts"], (json{{"80/tcp", json::object()}, {"53/udp", json::object()}}));
    EXPECT_EQ(out["Volumes"], (json{{"/data", json::object()},
                                    {"/logs", json::object()},
                                    {"/with space", json::object()}}));
    EXPECT_EQ(out["User"], "1000:1000");
    EXPECT_EQ(out["WorkingDir"], "/srv");
    EXPECT_EQ(out["StopSignal"], "SIGINT");
    EXPECT_EQ(out["OnBuild"], json::array({"RUN make"}));
}

TEST(ConfigChanges, BadChangesNameTheChangeInOneLine) {
    const std::string allowed =
        " is not a valid change command (CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, "
        "ONBUILD, SHELL, STOPSIGNAL, USER, VOLUME, WORKDIR)";
    EXPECT_EQ(error_of([] { changed({"FROB x"}); }), "--change \"FROB x\": FROB" + allowed);
    EXPECT_EQ(error_of([] { changed({"run make"}); }), "--change \"run make\": run" + allowed);
    EXPECT_EQ(error_of([] { changed({"MAINTAINER me"}); }),
              "--change \"MAINTAINER me\": MAINTAINER" + allowed);
    EXPECT_EQ(error_of([] { changed({"CMD a\nRUN b"}); }),
              "--change \"CMD a\nRUN b\": one instruction per change");
    EXPECT_EQ(error_of([] { changed({"EXPOSE http"}); }),
              "--change \"EXPOSE http\": invalid port \"http\"");
    EXPECT_NE(error_of([] { changed({"ENV A=\"open"}); }).find("--change \"ENV A=\"open\": "),
              std::string::npos);
    EXPECT_NE(error_of([] { changed({"USER"}); }).find("USER requires at least one argument"),
              std::string::npos);
}

TEST(ConfigChanges, EntrypointClearsAnInheritedCmdAndShellFormUsesShell) {
    json cfg = {{"config", {{"Cmd", {"sh"}}, {"Shell", {"/bin/bash", "-c"}}}}};
    StageConfigState st;
    auto df =
        parse_dockerfile("ENTRYPOINT run me\nHEALTHCHECK --interval=1m30s --retries=2 CMD true\n");
    apply_config_instruction(df.instructions[0], cfg, vars({}), '\\', st);
    EXPECT_FALSE(cfg["config"].contains("Cmd"));
    EXPECT_EQ(cfg["config"]["Entrypoint"], json({"/bin/bash", "-c", "run me"}));
    apply_config_instruction(df.instructions[1], cfg, vars({}), '\\', st);
    EXPECT_EQ(cfg["config"]["Healthcheck"]["Test"], json({"CMD-SHELL", "true"}));
    EXPECT_EQ(cfg["config"]["Healthcheck"]["Interval"], 90000000000LL);
    EXPECT_EQ(cfg["config"]["Healthcheck"]["Retries"], 2);
}

TEST(ConfigChanges, DurationsInDockersUnits) {
    EXPECT_EQ(parse_duration_ns("30s"), 30000000000LL);
    EXPECT_EQ(parse_duration_ns("500ms"), 500000000LL);
    EXPECT_EQ(parse_duration_ns("1h"), 3600000000000LL);
    EXPECT_THROW(parse_duration_ns("10"), husk::Error);
    EXPECT_THROW(parse_duration_ns("5y"), husk::Error);
}

}  // namespace
