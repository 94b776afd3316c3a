#include "runtime/cgroup/convert.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "runtime/cgroup/file.h"
#include "sys/error.h"
#include "sys/fileutil.h"

namespace husk::runtime::cgroup {

uint64_t shares_to_weight(uint64_t shares) {
    if (shares == 0) return 0;
    if (shares < 2) shares = 2;
    if (shares > 262144) shares = 262144;
    return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t blkio_weight_to_io_weight(uint64_t weight) {
    if (weight == 0) return 0;
    return 1 + (weight - 10) * 9999 / 990;
}

std::string cpu_max(std::optional<int64_t> quota, std::optional<uint64_t> period) {
    const bool has_quota = quota && *quota != 0;
    const bool has_period = period && *period != 0;
    if (!has_quota && !has_period) return {};
    const uint64_t p = has_period ? *period : 100000;
    if (!has_quota || *quota < 0) return fmt::format("max {}", p);
    return fmt::format("{} {}", *quota, p);
}

std::optional<std::string> swap_v2(std::optional<int64_t> swap, std::optional<int64_t> limit) {
    if (!swap || *swap == 0) return std::nullopt;
    if (*swap == -1) return "max";
    if (!limit || *limit == 0)
        throw Error(fmt::format(
            "linux.resources.memory.swap {}: a swap limit needs a memory limit too", *swap));
    if (*limit == -1) return std::to_string(*swap);  // memory unlimited: swap alone
    if (*swap < *limit)
        throw Error(
            fmt::format("linux.resources.memory.swap {}: must be at least "
                        "linux.resources.memory.limit {} (it counts memory+swap)",
                        *swap, *limit));
    return std::to_string(*swap - *limit);
}

std::string limit_v2(int64_t v) {
    return v < 0 ? "max" : std::to_string(v);
}

std::set<int> parse_id_list(std::string_view list, std::string_view field) {
    std::set<int> out;
    auto bad = [&] {
        return Error(fmt::format("{} \"{}\": expected a list such as \"0-3,5\"", field, list));
    };
    size_t pos = 0;
    while (pos <= list.size()) {
        size_t end = list.find(',', pos);
        if (end == std::string_view::npos) end = list.size();
        std::string_view item = list.substr(pos, end - pos);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\n'))
            item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\n')) item.remove_suffix(1);
        if (item.empty()) {
            if (list.empty()) break;
            throw bad();
        }
        int lo = 0, hi = 0;
        size_t dash = item.find('-');
        auto num = [&](std::string_view s, int& v) {
            auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
            if (ec != std::errc() || p != s.data() + s.size() || v < 0) throw bad();
        };
        num(item.substr(0, dash), lo);
        hi = lo;
        if (dash != std::string_view::npos) num(item.substr(dash + 1), hi);
        if (hi < lo || hi - lo > 65536) throw bad();
        for (int i = lo; i <= hi; ++i) out.insert(i);
        pos = end + 1;
    }
    return out;
}

std::string hugepage_size_name(uint64_t kib) {
    constexpr uint64_t kGiB = uint64_t{1} << 20;  // in KiB
    if (kib >= kGiB && kib % kGiB == 0) return fmt::format("{}GB", kib / kGiB);
    if (kib >= 1024 && kib % 1024 == 0) return fmt::format("{}MB", kib / 1024);
    return fmt::format("{}KB", kib);
}

std::optional<uint64_t> hugepage_size_bytes(std::string_view name) {
    uint64_t n = 0;
    const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), n);
    if (ec != std::errc() || end == name.data() || n == 0) return std::nullopt;
    const std::string_view unit(end, static_cast<size_t>(name.data() + name.size() - end));
    int shift = 0;
    if (unit == "KB")
        shift = 10;
    else if (unit == "MB")
        shift = 20;
    else if (unit == "GB")
        shift = 30;
    else
        return std::nullopt;
    if (n > (UINT64_MAX >> shift)) return std::nullopt;
    return n << shift;
}

std::vector<std::string> hugepage_size_names(std::vector<uint64_t> kibs) {
    // By size, not by name: as text "1GB" sorts before "2MB".
    std::sort(kibs.begin(), kibs.end());
    std::vector<std::string> out;
    out.reserve(kibs.size());
    for (uint64_t kib : kibs) out.push_back(hugepage_size_name(kib));
    return out;
}

std::vector<std::string> hugepage_sizes() {
    std::vector<uint64_t> kibs;
    for (auto& name : sys::list_dir("/sys/kernel/mm/hugepages")) {
        uint64_t kib = 0;
        if (std::sscanf(name.c_str(), "hugepages-%lukB", &kib) == 1) kibs.push_back(kib);
    }
    return hugepage_size_names(std::move(kibs));
}

std::string device_rule_v1(const oci::DeviceRule& r) {
    auto num = [](const std::optional<int64_t>& v) {
        return v && *v >= 0 ? std::to_string(*v) : std::string("*");
    };
    const std::string type = r.type.empty() ? "a" : r.type;
    return fmt::format("{} {}:{} {}", type, num(r.major), num(r.minor),
                       r.access.empty() ? "rwm" : r.access);
}

namespace {

void check_within(const std::string& list, const char* field, const char* online_file,
                  const char* what) {
    if (list.empty()) return;
    auto want = parse_id_list(list, field);
    std::string online;
    if (!try_read_file(online_file, online)) return;  // cannot tell: the kernel will
    auto have = parse_id_list(online, online_file);
    for (int id : want)
        if (!have.count(id))
            throw Error(fmt::format("{} \"{}\": {} {} is not in this machine's {}s ({})", field,
                                    list, what, id, what, online));
}

}  // namespace

void validate(const oci::Resources& res) {
    for (size_t i = 0; i < res.devices.size(); ++i) {
        const auto& d = res.devices[i];
        if (!d.type.empty() && d.type != "a" && d.type != "b" && d.type != "c")
            throw Error(fmt::format(
                "linux.resources.devices[{}].type \"{}\": expected \"a\", \"b\" or \"c\"", i,
                d.type));
        if (d.access.find_first_not_of("rwm") != std::string::npos)
            throw Error(fmt::format(
                "linux.resources.devices[{}].access \"{}\": expected letters of \"rwm\"", i,
                d.access));
    }
    if (res.cpu) {
        const auto& c = *res.cpu;
        if (c.shares && (*c.shares > 262144))
            throw Error(
                fmt::format("linux.resources.cpu.shares {}: expected 2..262144", *c.shares));
        if (c.quota && *c.quota < -1)
            throw Error(fmt::format("linux.resources.cpu.quota {}: expected -1 or more", *c.quota));
        if (c.period && *c.period != 0 && (*c.period < 1000 || *c.period > 1000000))
            throw Error(fmt::format("linux.resources.cpu.period {}: expected 1000..1000000 (µs)",
                                    *c.period));
        if (c.idle && *c.idle != 0 && *c.idle != 1)
            throw Error(fmt::format("linux.resources.cpu.idle {}: expected 0 or 1", *c.idle));
        check_within(c.cpus, "linux.resources.cpu.cpus", "/sys/devices/system/cpu/online", "cpu");
        check_within(c.mems, "linux.resources.cpu.mems", "/sys/devices/system/node/online", "node");
    }
    if (res.memory) {
        const auto& m = *res.memory;
        auto check = [](const std::optional<int64_t>& v, const char* field) {
            if (v && *v < -1)
                throw Error(
                    fmt::format("linux.resources.memory.{} {}: expected -1 or more", field, *v));
        };
        check(m.limit, "limit");
        check(m.reservation, "reservation");
        check(m.swap, "swap");
        if (m.swappiness && *m.swappiness > 100)
            throw Error(fmt::format("linux.resources.memory.swappiness {}: expected 0..100",
                                    *m.swappiness));
        swap_v2(m.swap, m.limit);  // throws on an impossible swap/limit pair
    }
    if (res.block_io) {
        auto check = [](const std::optional<uint16_t>& w, const std::string& field) {
            if (w && *w != 0 && (*w < 10 || *w > 1000))
                throw Error(fmt::format("{} {}: expected 10..1000", field, *w));
        };
        check(res.block_io->weight, "linux.resources.blockIO.weight");
        check(res.block_io->leaf_weight, "linux.resources.blockIO.leafWeight");
        for (size_t i = 0; i < res.block_io->weight_device.size(); ++i) {
            const auto& wd = res.block_io->weight_device[i];
            check(wd.weight, fmt::format("linux.resources.blockIO.weightDevice[{}].weight", i));
        }
    }
    if (!res.hugepage_limits.empty()) {
        auto sizes = hugepage_sizes();
        for (size_t i = 0; i < res.hugepage_limits.size(); ++i) {
            const auto& h = res.hugepage_limits[i];
            if (std::find(sizes.begin(), sizes.end(), h.page_size) == sizes.end())
                throw Error(fmt::format(
                    "linux.resources.hugepageLimits[{}].pageSize \"{}\": this machine has {}", i,
                    h.page_size,
                    sizes.empty() ? std::string("no huge pages")
                                  : fmt::format("{}", fmt::join(sizes, ", "))));
        }
    }
    for (const auto& [key, value] : res.unified) {
        static constexpr std::string_view reserved[] = {"cgroup.procs",           "cgroup.threads",
                                                        "cgroup.subtree_control", "cgroup.kill",
                                                        "cgroup.freeze",          "cgroup.type"};
        if (key.empty() || key.find('/') != std::string::npos || key[0] == '.' ||
            std::find(std::begin(reserved), std::end(reserved), key) != std::end(reserved))
            throw Error(
                fmt::format("linux.resources.unified \"{}\": not a cgroup v2 setting file", key));
    }
}

}  // namespace husk::runtime::cgroup
