// Internal to src/oci: the pieces of config.json parsing shared between files.
#pragma once

#include <string>
#include <vector>

#include "oci/json_reader.h"
#include "oci/names.h"
#include "oci/spec.h"

namespace husk::oci::detail {

// "unknown <what> "<value>"" unless `value` is in `list`.
void check_name(NameList list, const std::string& value, const std::string& path,
                std::string_view what);
// The required string member `key`, one of `list`.
std::string required_name(const Obj& o, std::string_view key, NameList list, std::string_view what);
// The string array `key`, each element one of `list`.
std::vector<std::string> name_list(const Obj& o, std::string_view key, NameList list,
                                   std::string_view what);
// "must be an absolute path, got "x"" unless `value` starts with '/'.
void check_absolute(const std::string& value, const std::string& path);
// A cpu or node list such as "0-3,7".
void check_cpu_list(const std::string& value, const std::string& path);

std::vector<IdMapping> parse_id_mappings(const Obj& parent, std::string_view key);
Process parse_process_obj(const Obj& o);
Linux parse_linux(const Obj& o);
Resources parse_resources(const Obj& o);
Seccomp parse_seccomp(const Obj& o);

}  // namespace husk::oci::detail
