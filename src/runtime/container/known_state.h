// What create last wrote to a container's state.json, kept by `run` in memory: start and
// delete use it when state.json still holds exactly that text (read under the lock, as
// always), and parse the file only when somebody else changed it meanwhile.
#pragma once

#include <memory>
#include <string>

#include "runtime/cgroup/manager.h"
#include "runtime/container.h"
#include "runtime/state.h"

namespace husk::runtime {

struct KnownState {
    std::string text;                     // state.json as written
    Record rec;                           // the record it holds
    std::shared_ptr<cgroup::Manager> cg;  // Manager::load(rec.cgroup), null without a cgroup
};

}  // namespace husk::runtime
