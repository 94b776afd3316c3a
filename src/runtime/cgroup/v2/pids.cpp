// cgroup v2 pids: pids.max and pids.current are the same files as in v1.
#include "runtime/cgroup/backends.h"

namespace husk::runtime::cgroup::v2 {

void pids(const std::string& dir, const oci::PidsResources& p) {
    v1::pids(dir, p);
}
void pids_stats(const std::string& dir, Stats& s) {
    v1::pids_stats(dir, s);
}

}  // namespace husk::runtime::cgroup::v2
