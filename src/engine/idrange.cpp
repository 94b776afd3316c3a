#include "engine/idrange.h"

#include <algorithm>
#include <sstream>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/fileutil.h"

namespace husk::engine {

std::vector<oci::IdMapping> subid_ranges(const std::string& text, const std::string& user) {
    std::vector<oci::IdMapping> out;
    std::stringstream ss(text);
    std::string line;
    while (std::getline(ss, line)) {
        auto a = line.find(':');
        auto b = line.find(':', a == std::string::npos ? a : a + 1);
        if (a == std::string::npos || b == std::string::npos || line.substr(0, a) != user) continue;
        try {
            unsigned long start = std::stoul(line.substr(a + 1, b - a - 1));
            unsigned long size = std::stoul(line.substr(b + 1));
            if (start == 0 || size == 0 || start + size > UINT32_MAX) continue;
            out.push_back({0, static_cast<uint32_t>(start), static_cast<uint32_t>(size)});
        } catch (const std::exception&) {
        }
    }
    return out;
}

std::vector<oci::IdMapping> available_ranges() {
    auto read = [](const char* path) {
        try {
            return sys::exists_follow(path) ? sys::read_file(path) : std::string();
        } catch (const std::exception&) {
            return std::string();
        }
    };
    auto uids = subid_ranges(read("/etc/subuid"), "containers");
    auto gids = subid_ranges(read("/etc/subgid"), "containers");
    std::vector<oci::IdMapping> both;
    for (auto& u : uids)
        for (auto& g : gids)
            if (u.host_id == g.host_id) both.push_back({0, u.host_id, std::min(u.size, g.size)});
    if (both.empty()) both.push_back({0, kDefaultRangeStart, kDefaultRangeSize});
    return both;
}

uint32_t pick_range(const std::vector<oci::IdMapping>& avail,
                    const std::vector<oci::IdMapping>& used, uint32_t size) {
    auto sorted = used;
    std::sort(sorted.begin(), sorted.end(), [](const oci::IdMapping& a, const oci::IdMapping& b) {
        return a.host_id < b.host_id;
    });
    for (auto& r : avail) {
        uint64_t cand = r.host_id;
        uint64_t end = static_cast<uint64_t>(r.host_id) + r.size;
        for (auto& u : sorted) {
            uint64_t ue = static_cast<uint64_t>(u.host_id) + u.size;
            if (cand + size <= u.host_id) break;  // fits before this one
            if (ue > cand) cand = ue;
        }
        if (cand + size <= end) return static_cast<uint32_t>(cand);
    }
    throw Error(
        fmt::format("--userns=auto: no free range of {} ids left (add entries for the "
                    "user \"containers\" to /etc/subuid and /etc/subgid)",
                    size));
}

}  // namespace husk::engine
