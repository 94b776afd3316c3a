// cgroup v1 hugetlb: a limit per huge page size (and its reservation counterpart).
#include <fmt/format.h>

#include "runtime/cgroup/backends.h"
#include "runtime/cgroup/convert.h"
#include "runtime/cgroup/file.h"

namespace husk::runtime::cgroup::v1 {

void hugetlb(const std::string& dir, const std::vector<oci::HugepageLimit>& limits) {
    for (const auto& l : limits) {
        write_file(dir, fmt::format("hugetlb.{}.limit_in_bytes", l.page_size),
                   std::to_string(l.limit));
        // Reservations count too (Linux 5.7+); keep them in line as runc does.
        std::string rsvd = fmt::format("hugetlb.{}.rsvd.limit_in_bytes", l.page_size);
        if (file_exists(dir, rsvd)) write_file(dir, rsvd, std::to_string(l.limit));
    }
}

void hugetlb_stats(const std::string& dir, Stats& s) {
    for (const auto& size : hugepage_sizes()) {
        auto& e = s.hugetlb[size];
        e.usage = read_u64(dir, fmt::format("hugetlb.{}.usage_in_bytes", size));
        e.max_usage = read_u64(dir, fmt::format("hugetlb.{}.max_usage_in_bytes", size));
        e.failcnt = read_u64(dir, fmt::format("hugetlb.{}.failcnt", size));
        e.limit = read_u64(dir, fmt::format("hugetlb.{}.limit_in_bytes", size));
    }
}

}  // namespace husk::runtime::cgroup::v1
