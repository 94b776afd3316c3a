// Inside the template library: json values as Go's templates see them, the functions
// docker's templates offer, and the tab writer.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace husk::cli::tmpl {

// A function refused its arguments; the executor adds the template position.
class FuncError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// fmt's %v of the value: strings bare, [a b] for arrays, map[k:v] for objects, <nil>.
std::string go_print(const nlohmann::json& v);
// The Go type a value would have decoded into: string, int, float64, bool, []interface {}, ...
std::string go_type(const nlohmann::json& v);
// if/with/and/or/not: false, 0, "", nil and empty arrays and objects are false.
bool truth(const nlohmann::json& v);
// docker's json function: compact, HTML characters left as they are.
std::string to_json(const nlohmann::json& v);

// Calls a function by name. In a header row (`header`) docker's own functions return
// their first argument, so {{upper .Names}} has the title NAMES.
nlohmann::json call(const std::string& name, const std::vector<nlohmann::json>& args, bool header);

}  // namespace husk::cli::tmpl
