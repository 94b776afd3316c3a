// cgroup v2 hugetlb: hugetlb.<size>.max (and .rsvd.max).
#include <fmt/format.h>

#include "runtime/cgroup/backends.h"
#include "runtime/cgroup/convert.h"
#include "runtime/cgroup/file.h"

namespace husk::runtime::cgroup::v2 {

void hugetlb(const std::string& dir, const std::vector<oci::HugepageLimit>& limits) {
    for (const auto& l : limits) {
        write_file(dir, fmt::format("hugetlb.{}.max", l.page_size), std::to_string(l.limit));
        std::string rsvd = fmt::format("hugetlb.{}.rsvd.max", l.page_size);
        if (file_exists(dir, rsvd)) write_file(dir, rsvd, std::to_string(l.limit));
    }
}

void hugetlb_stats(const std::string& dir, Stats& s) {
    for (const auto& size : hugepage_sizes()) {
        auto& e = s.hugetlb[size];
        e.usage = read_u64(dir, fmt::format("hugetlb.{}.current", size));
        e.limit = read_u64(dir, fmt::format("hugetlb.{}.max", size));
        std::string events;
        if (try_read_file(fmt::format("{}/hugetlb.{}.events", dir, size), events)) {
            int64_t max = flat_key(events, "max");
            e.failcnt = max < 0 ? 0 : static_cast<uint64_t>(max);
        }
    }
}

}  // namespace husk::runtime::cgroup::v2
