// docker's --format: the subset of Go's text/template that docker documents, over
// nlohmann::json data (inspect documents, the rows of ps/images/volume ls/stats/...).
//
//   {{.Field.Sub}}  {{.}}  {{$}}  {{$v.Field}}  {{(index .X 0).Field}}
//   {{if P}} {{else if P}} {{else}} {{end}}   {{range P}} {{else}} {{end}}
//   {{range $k, $v := P}} {{break}} {{continue}}   {{with P}}   {{$x := P}}
//   {{define "T"}} {{template "T" P}} {{block "T" P}}   {{- trims -}}   {{/* comment */}}
//   pipelines {{.X | upper}}; functions: Go's and, or, not, len, index, slice, print,
//   printf, println, html, js, urlquery, call, eq, ne, lt, le, gt, ge; docker's json,
//   join, split, lower, upper, title, pad, truncate.
//
// Why a library of the CLI and not of the engine: templates are how a terminal user
// shapes text; the Docker Engine API front end answers JSON and never renders one.
// Errors are husk::Error with one line naming the position: `template: :1:8: ...`.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace husk::cli::tmpl {

struct Tree;

// docker's formatter contexts have methods beside their fields: `{{.Label "com.x"}}` on
// the rows of ps, volume ls and network ls. A method of the row is called on dot when
// dot is the row itself: `call(row, args)` with `row` the row's index in the listing.
// In a header row its title is `header(args)`, or its name in capitals without one.
struct Method {
    size_t arity = 0;
    std::function<nlohmann::json(size_t row, const std::vector<nlohmann::json>& args)> call;
    std::function<std::string(const std::vector<nlohmann::json>& args)> header;
};
using Methods = std::map<std::string, Method, std::less<>>;

class Template {
  public:
    // Parses `text` as it is (no "table" prefix, no \t unescaping: see format_rows).
    explicit Template(std::string_view text);
    ~Template();
    Template(Template&&) noexcept;
    Template& operator=(Template&&) noexcept;

    // Runs the template with `dot` as `.` and `$`. A field missing from an object
    // is an error, as docker's typed contexts make it.
    std::string execute(const nlohmann::json& dot) const;
    // The same for row `row` of a listing whose rows have `methods`.
    std::string execute(const nlohmann::json& dot, const Methods& methods, size_t row) const;
    // The header row of a `table` format: `dot` maps field names to column titles,
    // docker's functions pass their first argument through, a missing field's title
    // is its name in capitals.
    std::string execute_header(const nlohmann::json& headers,
                               const Methods* methods = nullptr) const;

  private:
    std::string source_;
    std::unique_ptr<Tree> tree_;
};

// Go's text/tabwriter as docker's formatter sets it up (minwidth 10, padding 3,
// spaces): tab-terminated cells of a column block padded to the widest one.
std::string tabwrite(std::string_view text);

// What --format prints for a listing command:
//   "table"            -> default_table (a "table ..." template)
//   "table TEMPLATE"   -> a header row from `headers`, then one aligned row per row
//   "json"             -> one JSON object per line
//   TEMPLATE           -> TEMPLATE per row, each followed by a newline
// "\t" and "\n" typed as two characters become the characters, as in docker.
std::string format_rows(std::string_view format, const std::vector<nlohmann::json>& rows,
                        const nlohmann::json& headers, std::string_view default_table = {},
                        const Methods* methods = nullptr);

// `inspect -f`: the template run once per object, each followed by a newline;
// "json" prints the object.
std::string format_object(std::string_view format, const nlohmann::json& value);

}  // namespace husk::cli::tmpl
