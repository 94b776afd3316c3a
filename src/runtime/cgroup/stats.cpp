#include "runtime/cgroup/stats.h"

#include <nlohmann/json.hpp>

namespace husk::runtime::cgroup {

std::string Stats::to_json() const {
    return nlohmann::json::object().dump();
}

}  // namespace husk::runtime::cgroup
