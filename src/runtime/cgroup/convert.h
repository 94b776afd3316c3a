// Pure conversions between OCI values and cgroup file values, v1 and v2 (no
// kernel needed: unit-tested), and the validation done before anything is created.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "oci/spec.h"

namespace husk::runtime::cgroup {

// cpu.shares (2..262144) -> cpu.weight (1..10000), runc 1.1's formula; 0 stays 0 (unset).
uint64_t shares_to_weight(uint64_t shares);
// blkio.weight (10..1000) -> io.weight (1..10000), as runc converts it; 0 stays 0.
uint64_t blkio_weight_to_io_weight(uint64_t weight);
// cpu.max: "quota period", "max period", or "" when neither is set.
std::string cpu_max(std::optional<int64_t> quota, std::optional<uint64_t> period);
// memory.swap.max from OCI memory.swap (memory+swap, as v1 memsw) and memory.limit:
// "max" for -1, swap - limit otherwise; nullopt when swap is unset or 0. Throws
// when swap is set without a limit or is below it.
std::optional<std::string> swap_v2(std::optional<int64_t> swap, std::optional<int64_t> limit);
// A byte limit for v2 files: "max" for -1 (or any negative), else the number.
std::string limit_v2(int64_t v);

// "0-3,5" -> {0,1,2,3,5}; throws Error naming `field` on bad syntax.
std::set<int> parse_id_list(std::string_view list, std::string_view field);
// "2MB" <- "hugepages-2048kB" (the names /sys/kernel/mm/hugepages uses), and the sizes
// this machine has, in the OCI spelling, smallest first.
std::string hugepage_size_name(uint64_t kib);
std::vector<std::string> hugepage_size_names(std::vector<uint64_t> kibs);
std::vector<std::string> hugepage_sizes();
// "2MB" -> 2097152; nullopt for anything but a positive number with KB, MB or GB.
std::optional<uint64_t> hugepage_size_bytes(std::string_view name);

// v1 devices.allow/deny line: "c 1:3 rwm", "a *:* rwm".
std::string device_rule_v1(const oci::DeviceRule& r);

// Check `res` before anything is created; throws one Error naming the field:
//   linux.resources.cpu.cpus "7": cpu 7 is not in this machine's cpus (0-1)
void validate(const oci::Resources& res);

}  // namespace husk::runtime::cgroup
