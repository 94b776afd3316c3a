// docker's --format templates: the outputs docker's documentation shows
// (docs.docker.com/engine/cli/formatting, the ps/inspect/images references).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/template/template.h"
#include "sys/error.h"

namespace {

using husk::cli::tmpl::format_object;
using husk::cli::tmpl::format_rows;
using husk::cli::tmpl::tabwrite;
using husk::cli::tmpl::Template;
using nlohmann::json;

std::string run(std::string_view t, const json& dot) {
    return Template(t).execute(dot);
}

std::string error_of(std::string_view t, const json& dot) {
    try {
        run(t, dot);
    } catch (const husk::Error& e) {
        return e.what();
    }
    return "(no error)";
}

const json inspect_doc = json::parse(R"({
  "Name": "/Web_Server",
  "Args": ["-c", "sleep 1"],
  "Image": "busybox:latest",
  "State": {"Status": "running", "Running": true, "ExitCode": 0, "Pid": 42},
  "Config": {"Labels": {"com.example.vendor": "ACME", "version": "1.0"},
             "Env": ["PATH=/bin", "HOME=/root"]},
  "Mounts": [{"Type": "volume", "Name": "data", "Destination": "/data"}],
  "NetworkSettings": {
    "Networks": {"bridge": {"IPAddress": "10.88.0.2"}, "other": {"IPAddress": "10.89.0.7"}},
    "Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}],
              "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}]}
  }
})");

TEST(TemplateFields, NestedFieldsAndStringsUnquoted) {
    EXPECT_EQ(run("{{.State.Status}} {{.State.Pid}} {{.State.Running}}", inspect_doc),
              "running 42 true");
    EXPECT_EQ(run("{{.Config.Env}}", inspect_doc), "[PATH=/bin HOME=/root]");
    EXPECT_EQ(run("{{.Config.Labels}}", inspect_doc), "map[com.example.vendor:ACME version:1.0]");
}

TEST(TemplateFields, DocsFunctionExamples) {
    // docker inspect --format '{{join .Args " , "}}' container
    EXPECT_EQ(run(R"({{join .Args " , "}})", inspect_doc), "-c , sleep 1");
    // docker inspect --format '{{json .Mounts}}' container
    EXPECT_EQ(run("{{json .Mounts}}", inspect_doc),
              R"([{"Destination":"/data","Name":"data","Type":"volume"}])");
    EXPECT_EQ(run("{{lower .Name}}", inspect_doc), "/web_server");
    EXPECT_EQ(run("{{upper .Name}}", inspect_doc), "/WEB_SERVER");
    EXPECT_EQ(run("{{title .State.Status}}", inspect_doc), "Running");
    // docker inspect --format '{{split .Image ":"}}' container
    EXPECT_EQ(run(R"({{split .Image ":"}})", inspect_doc), "[busybox latest]");
    // docker inspect --format='{{range .NetworkSettings.Networks}}{{println .IPAddress}}{{end}}'
    EXPECT_EQ(run("{{range .NetworkSettings.Networks}}{{println .IPAddress}}{{end}}", inspect_doc),
              "10.88.0.2\n10.89.0.7\n");
    EXPECT_EQ(run(R"({{index .Config.Labels "com.example.vendor"}})", inspect_doc), "ACME");
    EXPECT_EQ(run("{{len .Config.Env}} {{len .Image}}", inspect_doc), "2 14");
    EXPECT_EQ(run(R"({{printf "%s has %d args" .Image (len .Args)}})", inspect_doc),
              "busybox:latest has 2 args");
    EXPECT_EQ(run(R"({{printf "%-8s|%5.1f|%q|%03d" "ab" 3.14159 "x" 7}})", json::object()),
              "ab      |  3.1|\"x\"|007");
    EXPECT_EQ(run(R"({{truncate .Image 7}} [{{pad "x" 1 2}}])", inspect_doc), "busybox [ x  ]");
}

// docker inspect -f '{{index .Config.Labels "nope"}}' prints an empty line: Labels is a
// map[string]string and Go's index of a missing key is the element type's zero value.
TEST(TemplateFields, IndexOfAMissingKeyIsTheZeroValueOfTheMapsValues) {
    EXPECT_EQ(run(R"([{{index .Config.Labels "nope"}}])", inspect_doc), "[]");
    EXPECT_EQ(run(R"([{{index .L "nope"}}])", json{{"L", json::object()}}), "[]");
    EXPECT_EQ(run(R"([{{index .M "nope"}}])", json{{"M", {{"a", 3}}}}), "[0]");
    EXPECT_EQ(run(R"([{{index .M "nope"}}])", json{{"M", {{"a", true}}}}), "[false]");
    // a map of objects (Networks: pointers in docker) gives nil, as Go prints it
    EXPECT_EQ(run(R"([{{index .NetworkSettings.Networks "nope"}}])", inspect_doc), "[<nil>]");
    EXPECT_EQ(run(R"({{if index .Config.Labels "nope"}}y{{else}}n{{end}})", inspect_doc), "n");
}

TEST(TemplateFields, InspectDocsPortLoopWithVariablesAndParens) {
    // docker inspect --format='{{range $p, $conf := .NetworkSettings.Ports}} {{$p}} ->
    //   {{(index $conf 0).HostPort}} {{end}}' $INSTANCE_ID
    EXPECT_EQ(run("{{range $p, $conf := .NetworkSettings.Ports}} {{$p}} -> "
                  "{{(index $conf 0).HostPort}} {{end}}",
                  inspect_doc),
              " 53/udp -> 5353  80/tcp -> 8080 ");
    EXPECT_EQ(run("{{$n := .Name}}{{range .Args}}{{$n}}{{.}};{{end}}", inspect_doc),
              "/Web_Server-c;/Web_Serversleep 1;");
    EXPECT_EQ(run("{{with .State}}{{.Status}}{{end}}|{{$.Name}}", inspect_doc),
              "running|/Web_Server");
}

TEST(TemplateControl, IfElseIfElseAndComparisons) {
    const std::string t =
        R"({{if eq .State.Status "exited"}}down{{else if and .State.Running (gt .State.Pid 1)}}up{{else}}?{{end}})";
    EXPECT_EQ(run(t, inspect_doc), "up");
    json d = inspect_doc;
    d["State"]["Status"] = "exited";
    EXPECT_EQ(run(t, d), "down");
    d["State"] = {{"Status", "created"}, {"Running", false}, {"Pid", 0}};
    EXPECT_EQ(run(t, d), "?");
    EXPECT_EQ(run(R"({{if ne .Image "x"}}a{{end}}{{if not .State.Running}}b{{end}})", inspect_doc),
              "a");
    EXPECT_EQ(
        run(R"({{if or (lt 2 1) (ge 3 3)}}y{{end}}{{if eq .Image "a" "busybox:latest"}}z{{end}})",
            inspect_doc),
        "yz");
}

TEST(TemplateControl, AndOrStopAtTheDecidingArgument) {
    // .Missing would be an error; and/or never look at it once the answer is known
    EXPECT_EQ(run("{{if and .Absent .Absent.X}}a{{else}}b{{end}}", json{{"Absent", nullptr}}), "b");
    EXPECT_EQ(run("{{or .Name .Nope}}", inspect_doc), "/Web_Server");
}

TEST(TemplateControl, RangeElseOverEmptyAndNull) {
    EXPECT_EQ(run("{{range .L}}x{{else}}none{{end}}", json{{"L", json::array()}}), "none");
    EXPECT_EQ(run("{{range .L}}x{{else}}none{{end}}", json{{"L", nullptr}}), "none");
    EXPECT_EQ(run("{{range $i, $e := .L}}{{$i}}={{$e}} {{end}}", json{{"L", {"a", "b"}}}),
              "0=a 1=b ");
}

TEST(TemplateText, TrimMarkersAndComments) {
    EXPECT_EQ(run("a  {{- .Image -}}  \n b{{/* a comment */}}", inspect_doc), "abusybox:latestb");
    EXPECT_EQ(run("{{range .Args -}}\n  [{{.}}]\n{{- end}}", inspect_doc), "[-c][sleep 1]");
}

TEST(TemplateText, PipelinesPassTheValueAsLastArgument) {
    EXPECT_EQ(run("{{.Image | upper}}", inspect_doc), "BUSYBOX:LATEST");
    EXPECT_EQ(run(R"({{.Image | printf "%s!" | lower}})", inspect_doc), "busybox:latest!");
    EXPECT_EQ(run(R"({{join (split .Image ":") "/" | upper}})", inspect_doc), "BUSYBOX/LATEST");
}

TEST(TemplateErrors, OneLineNamingThePosition) {
    EXPECT_EQ(error_of("{{.State.Nope}}", inspect_doc),
              R"(template: :1:3: executing at <.State.Nope>: map has no entry for key "Nope")");
    EXPECT_EQ(error_of("x\n {{.Image.Foo}}", inspect_doc),
              "template: :2:4: executing at <.Image.Foo>: can't evaluate field Foo in type string");
    EXPECT_EQ(error_of("{{.Image", inspect_doc), "template: :1:1: unclosed action");
    EXPECT_EQ(error_of("{{frob .Image}}", inspect_doc),
              R"(template: :1:3: function "frob" not defined)");
    EXPECT_EQ(error_of("{{if .Image}}x", inspect_doc), "template: :1:15: unexpected EOF");
    EXPECT_EQ(error_of("{{end}}", inspect_doc), "template: :1:3: unexpected {{end}}");
    EXPECT_EQ(error_of("{{upper .Args}}", inspect_doc),
              "template: :1:3: error calling upper: wrong type for value; expected string; got "
              "[]interface {}");
    EXPECT_EQ(error_of("{{index .Args 5}}", inspect_doc),
              "template: :1:3: error calling index: index out of range: 5");
    EXPECT_EQ(error_of("{{.Image .Name}}", inspect_doc),
              "template: :1:10: can't give argument to non-function .Image");
}

// Go's text/template outputs for its slice, html, js, urlquery and call functions.
TEST(TemplateFunctions, SliceAsGo) {
    EXPECT_EQ(run("{{slice .Image 0 7}}", inspect_doc), "busybox");
    EXPECT_EQ(run("{{slice .Image 8}}", inspect_doc), "latest");
    EXPECT_EQ(run("{{slice .Config.Env 1}}", inspect_doc), "[HOME=/root]");
    EXPECT_EQ(run("{{slice .Config.Env 0 1 2}}", inspect_doc), "[PATH=/bin]");
    EXPECT_EQ(run("{{len (slice .Args 2)}}", inspect_doc), "0");
    EXPECT_EQ(error_of("{{slice .Image 3 99}}", inspect_doc),
              "template: :1:3: error calling slice: index out of range: 99");
    EXPECT_EQ(error_of("{{slice .Image 4 2}}", inspect_doc),
              "template: :1:3: error calling slice: invalid slice index: 4 > 2");
    EXPECT_EQ(error_of("{{slice .Image 0 1 2}}", inspect_doc),
              "template: :1:3: error calling slice: cannot 3-index slice a string");
    EXPECT_EQ(error_of("{{slice .State.Pid 1}}", inspect_doc),
              "template: :1:3: error calling slice: can't slice item of type int");
}

TEST(TemplateFunctions, EscapersAsGo) {
    json d = {{"S", "<a href=\"x\">'Tom' & \"Jerry\"</a>"}, {"N", 3}, {"U", "caf\u00e9\u2028"}};
    EXPECT_EQ(run("{{html .S}}", d),
              "&lt;a href=&#34;x&#34;&gt;&#39;Tom&#39; &amp; &#34;Jerry&#34;&lt;/a&gt;");
    EXPECT_EQ(run("{{js .S}}", d),
              R"(\u003Ca href\u003D\"x\"\u003E\'Tom\' \u0026 \"Jerry\"\u003C/a\u003E)");
    EXPECT_EQ(run("{{js .U}}", d), "caf\u00e9\\u2028");
    EXPECT_EQ(run("{{js \"a\\tb\"}}", d), R"(a\u0009b)");
    EXPECT_EQ(run("{{urlquery \"a b&c=d/é\"}}", d), "a+b%26c%3Dd%2F%C3%A9");
    // several arguments are fmt.Sprint'ed first
    EXPECT_EQ(run("{{html .N \"<\" .N}}", d), "3&lt;3");
    EXPECT_EQ(run("{{.S | urlquery}}", d),
              "%3Ca+href%3D%22x%22%3E%27Tom%27+%26+%22Jerry%22%3C%2Fa%3E");
    EXPECT_EQ(error_of("{{call .N}}", d),
              "template: :1:3: error calling call: non-function of type int");
}

// {{define}}, {{template}}, {{block}}, {{break}} and {{continue}}.
TEST(TemplateControl, DefineTemplateAndBlock) {
    EXPECT_EQ(
        run(R"({{define "net"}}{{.IPAddress}}{{end}})"
            R"({{range $n, $v := .NetworkSettings.Networks}}{{$n}}={{template "net" $v}} {{end}})",
            inspect_doc),
        "bridge=10.88.0.2 other=10.89.0.7 ");
    // no pipeline: dot is nil inside; $ is the template's own dot
    EXPECT_EQ(
        run(R"({{define "t"}}[{{.}}|{{$}}]{{end}}{{template "t"}}{{template "t" .State.Pid}})",
            inspect_doc),
        "[<nil>|<nil>][42|42]");
    // block defines and runs; an empty define does not replace it, a second body is an error
    EXPECT_EQ(run(R"({{block "b" .State.Status}}<{{.}}>{{end}})", inspect_doc), "<running>");
    EXPECT_EQ(
        run(R"({{block "b" .State.Status}}<{{.}}>{{end}}{{define "b"}} {{end}})", inspect_doc),
        "<running>");
    EXPECT_EQ(error_of(R"({{block "b" .}}<{{.}}>{{end}}{{define "b"}}({{.}}){{end}})", inspect_doc),
              R"(template: :1:32: template: multiple definition of template "b")");
    EXPECT_EQ(error_of(R"({{template "nope"}})", inspect_doc),
              R"(template: :1:3: no such template "nope")");
    EXPECT_EQ(error_of(R"({{define "a"}}x{{end}}{{define "a"}}y{{end}})", inspect_doc),
              R"(template: :1:25: template: multiple definition of template "a")");
    EXPECT_EQ(error_of(R"({{if 1}}{{define "a"}}x{{end}}{{end}})", inspect_doc),
              "template: :1:11: unexpected <define> in command");
    EXPECT_EQ(error_of(R"({{define "r"}}{{template "r"}}{{end}}{{template "r"}})", inspect_doc),
              "template: :1:17: exceeded maximum template depth (1000)");
}

TEST(TemplateControl, BreakAndContinueInRange) {
    json d = {{"L", {1, 2, 3, 4, 5}}};
    EXPECT_EQ(run("{{range .L}}{{if eq . 4}}{{break}}{{end}}{{.}}{{end}}", d), "123");
    EXPECT_EQ(run("{{range .L}}{{if eq . 2 4}}{{continue}}{{end}}{{.}}{{end}}", d), "135");
    EXPECT_EQ(run("{{range .L}}{{range .L}}{{break}}{{end}}{{.}}{{end}}",
                  json{{"L", {json{{"L", {1}}}}}}),
              "map[L:[1]]");
    EXPECT_EQ(error_of("{{if 1}}{{break}}{{end}}", d),
              "template: :1:11: {{break}} outside {{range}}");
    EXPECT_EQ(error_of("{{range .L}}{{continue 1}}{{end}}", d),
              "template: :1:24: unexpected token in continue");
}

// docker ps --format "table {{.ID}}\t{{.Labels}}" (docker's ps reference), with
// today's tabwriter (minwidth 10, padding 3).
TEST(TemplateTable, HeaderRowAndAlignedColumnsAsDockerPrints) {
    json headers = {{"ID", "CONTAINER ID"}, {"Labels", "LABELS"}, {"Names", "NAMES"}};
    std::vector<json> rows = {
        {{"ID", "a87ecb4f327c"}, {"Labels", "com.docker.swarm.node=ubuntu"}, {"Names", "web"}},
        {{"ID", "01946d9d34d8"}, {"Labels", ""}, {"Names", "db"}}};
    EXPECT_EQ(format_rows(R"(table {{.ID}}\t{{.Labels}})", rows, headers),
              "CONTAINER ID   LABELS\n"
              "a87ecb4f327c   com.docker.swarm.node=ubuntu\n"
              "01946d9d34d8   \n");
    // short columns are at least 10 wide; functions keep the title; unknown fields in capitals
    EXPECT_EQ(format_rows(R"(table {{upper .Names}}\t{{.ID}}\t{{.Other}})",
                          {{{"Names", "web"}, {"ID", "x"}, {"Other", 1}}}, headers),
              "NAMES     CONTAINER ID   OTHER\nWEB       x              1\n");
    // a bare "table" is the command's default table
    EXPECT_EQ(format_rows("table", rows, headers, R"(table {{.Names}})"), "NAMES\nweb\ndb\n");
}

// docker's ContainerContext.Label: a method of the row, with its argument; a field of
// the same name wins; in a header row its title is its name in capitals.
TEST(TemplateTable, RowMethodsAsDockersLabel) {
    json headers = {{"Names", "NAMES"}};
    std::vector<json> rows = {{{"Names", "web"}}, {{"Names", "db"}}};
    std::vector<std::string> tiers = {"front", "back"};
    husk::cli::tmpl::Methods m;
    m["Label"] = {1,
                  [&](size_t row, const std::vector<json>& a) {
                      return json(a[0] == "tier" ? tiers.at(row) : "");
                  },
                  {}};  // no header function: the title is the name in capitals
    EXPECT_EQ(format_rows(R"({{.Names}}={{.Label "tier"}}{{.Label "x"}})", rows, headers, {}, &m),
              "web=front\ndb=back\n");
    EXPECT_EQ(format_rows(R"({{"tier" | .Label | upper}})", rows, headers, {}, &m),
              "FRONT\nBACK\n");
    EXPECT_EQ(format_rows(R"(table {{.Names}}\t{{.Label "tier"}})", rows, headers, {}, &m),
              "NAMES     LABEL\nweb       front\ndb        back\n");
    // only on the row itself: inside with/range dot is another value
    EXPECT_THROW(format_rows(R"({{with .Names}}{{.Label "tier"}}{{end}})", rows, headers, {}, &m),
                 husk::Error);
    try {
        format_rows("{{.Label}}", rows, headers, {}, &m);
        ADD_FAILURE() << "no error";
    } catch (const husk::Error& e) {
        EXPECT_STREQ(e.what(),
                     "template: :1:3: executing at <.Label>: wrong number of args for Label: "
                     "want 1 got 0");
    }
    // without methods, as before
    EXPECT_THROW(format_rows(R"({{.Label "tier"}})", rows, headers), husk::Error);
}

TEST(TemplateTable, JsonAndPlainTemplatesPerRow) {
    std::vector<json> rows = {{{"ID", "a"}, {"N", 1}}, {{"ID", "b"}, {"N", 2}}};
    EXPECT_EQ(format_rows("json", rows, json::object()),
              "{\"ID\":\"a\",\"N\":1}\n{\"ID\":\"b\",\"N\":2}\n");
    EXPECT_EQ(format_rows(R"({{.ID}}\t{{.N}})", rows, json::object()), "a\t1\nb\t2\n");
    EXPECT_EQ(format_object("{{json .}}", rows[0]), "{\"ID\":\"a\",\"N\":1}\n");
}

TEST(TemplateTable, TabwriterColumnBlocksFollowGo) {
    // a line with fewer cells ends the column block; cells after it start a new one
    EXPECT_EQ(tabwrite("a\tbbbbbbbbbbbbbb\tc\nx\n1\t2\t3\n"),
              "a         bbbbbbbbbbbbbb   c\nx\n1         2         3\n");
    EXPECT_EQ(tabwrite("héllo\tx\n"), "héllo     x\n");
}

}  // namespace
