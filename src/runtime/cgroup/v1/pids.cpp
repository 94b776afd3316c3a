// cgroup v1 pids: the task limit.
#include "runtime/cgroup/backends.h"
#include "runtime/cgroup/file.h"

namespace husk::runtime::cgroup::v1 {

void pids(const std::string& dir, const oci::PidsResources& p) {
    write_file(dir, "pids.max", p.limit > 0 ? std::to_string(p.limit) : "max");
}

void pids_stats(const std::string& dir, Stats& s) {
    s.pids_current = read_u64(dir, "pids.current");
    uint64_t limit = read_u64(dir, "pids.max");
    s.pids_limit = limit == UINT64_MAX ? 0 : limit;
}

}  // namespace husk::runtime::cgroup::v1
