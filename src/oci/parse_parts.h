// Internal to src/oci: the checks config.json's field rules share (spec_fields.cpp).
#pragma once

#include <string>
#include <string_view>

#include "oci/json_reader.h"
#include "oci/names.h"
#include "oci/spec.h"

namespace husk::oci::detail {

// "unknown <what> "<value>"" unless `value` is in `list`.
void check_name(NameList list, const std::string& value, const std::string& path,
                std::string_view what);
// "must be an absolute path, got "x"" unless `value` starts with '/'.
void check_absolute(const std::string& value, const std::string& path);
// A cpu or node list such as "0-3,7".
void check_cpu_list(const std::string& value, const std::string& path);

}  // namespace husk::oci::detail
