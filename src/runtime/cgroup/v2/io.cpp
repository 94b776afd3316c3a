// cgroup v2 io: io.bfq.weight (BFQ, same scale as blkio) or io.weight (converted), io.max.
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "runtime/cgroup/backends.h"
#include "runtime/cgroup/convert.h"
#include "runtime/cgroup/file.h"

namespace husk::runtime::cgroup::v2 {

namespace {

// Write a weight: BFQ takes blkio's 10..1000 as is; io.weight wants 1..10000.
bool write_weight(const std::string& dir, const std::string& device_prefix, uint16_t w) {
    if (file_exists(dir, "io.bfq.weight")) {
        write_file(dir, "io.bfq.weight", fmt::format("{}{}", device_prefix, w));
        return true;
    }
    if (file_exists(dir, "io.weight")) {
        std::string prefix = device_prefix.empty() ? "default " : device_prefix;
        write_file(dir, "io.weight", fmt::format("{}{}", prefix, blkio_weight_to_io_weight(w)));
        return true;
    }
    return false;
}

}  // namespace

void io(const std::string& dir, const oci::BlockIoResources& b) {
    if (b.weight && *b.weight != 0 && !write_weight(dir, "", *b.weight))
        warn_ignored("linux.resources.blockIO.weight",
                     "no weight-based I/O control (io.bfq.weight and io.weight are missing)");
    if (b.leaf_weight && *b.leaf_weight != 0)
        warn_ignored("linux.resources.blockIO.leafWeight", "cgroup v2 has no leaf weights");
    for (size_t i = 0; i < b.weight_device.size(); ++i) {
        const auto& d = b.weight_device[i];
        if (d.weight && *d.weight != 0 &&
            !write_weight(dir, fmt::format("{}:{} ", d.major, d.minor), *d.weight))
            warn_ignored(fmt::format("linux.resources.blockIO.weightDevice[{}]", i),
                         "no weight-based I/O control (io.bfq.weight and io.weight are missing)");
        if (d.leaf_weight && *d.leaf_weight != 0)
            warn_ignored(fmt::format("linux.resources.blockIO.weightDevice[{}].leafWeight", i),
                         "cgroup v2 has no leaf weights");
    }
    // One io.max line per device with every limit of that device.
    std::map<std::pair<int64_t, int64_t>, std::string> lines;
    auto add = [&](const std::vector<oci::ThrottleDevice>& devs, const char* key) {
        for (const auto& d : devs) {
            auto& l = lines[{d.major, d.minor}];
            l += fmt::format(" {}={}", key,
                             d.rate == 0 ? std::string("max") : std::to_string(d.rate));
        }
    };
    add(b.throttle_read_bps_device, "rbps");
    add(b.throttle_write_bps_device, "wbps");
    add(b.throttle_read_iops_device, "riops");
    add(b.throttle_write_iops_device, "wiops");
    for (const auto& [dev, l] : lines)
        write_file(dir, "io.max", fmt::format("{}:{}{}", dev.first, dev.second, l));
}

void io_stats(const std::string& dir, Stats& s) {
    std::string text;
    if (!try_read_file(dir + "/io.stat", text)) return;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string dev, kv;
        ls >> dev;
        uint64_t major = 0, minor = 0;
        if (std::sscanf(dev.c_str(), "%lu:%lu", &major, &minor) != 2) continue;
        while (ls >> kv) {
            auto eq = kv.find('=');
            if (eq == std::string::npos) continue;
            const std::string k = kv.substr(0, eq);
            const uint64_t v = std::stoull(kv.substr(eq + 1));
            if (k == "rbytes") s.io_service_bytes.push_back({major, minor, "Read", v});
            if (k == "wbytes") s.io_service_bytes.push_back({major, minor, "Write", v});
            if (k == "rios") s.io_serviced.push_back({major, minor, "Read", v});
            if (k == "wios") s.io_serviced.push_back({major, minor, "Write", v});
        }
    }
}

}  // namespace husk::runtime::cgroup::v2
