// cgroup v1 blkio: weights (BFQ or CFQ files) and throttling per device.
#include <sstream>

#include <fmt/format.h>

#include "runtime/cgroup/backends.h"
#include "runtime/cgroup/file.h"

namespace husk::runtime::cgroup::v1 {

namespace {

// blkio.weight (CFQ, gone since 5.0) or blkio.bfq.weight (BFQ); "" when neither exists.
std::string weight_file(const std::string& dir, std::string_view suffix) {
    for (const char* prefix : {"blkio.", "blkio.bfq."}) {
        std::string f = fmt::format("{}{}", prefix, suffix);
        if (file_exists(dir, f)) return f;
    }
    return {};
}

void throttle(const std::string& dir, const char* file,
              const std::vector<oci::ThrottleDevice>& devices) {
    for (const auto& d : devices)
        write_file(dir, file, fmt::format("{}:{} {}", d.major, d.minor, d.rate));
}

}  // namespace

void blkio(const std::string& dir, const oci::BlockIoResources& b) {
    if (b.weight && *b.weight != 0) {
        if (auto f = weight_file(dir, "weight"); !f.empty())
            write_file(dir, f, std::to_string(*b.weight));
        else
            warn_ignored(
                "linux.resources.blockIO.weight",
                "no I/O scheduler with weights (BFQ) is active: blkio.bfq.weight is missing");
    }
    if (b.leaf_weight && *b.leaf_weight != 0) {
        if (file_exists(dir, "blkio.leaf_weight"))
            write_file(dir, "blkio.leaf_weight", std::to_string(*b.leaf_weight));
        else
            warn_ignored("linux.resources.blockIO.leafWeight",
                         "blkio.leaf_weight is gone with CFQ (Linux 5.0)");
    }
    for (size_t i = 0; i < b.weight_device.size(); ++i) {
        const auto& d = b.weight_device[i];
        if (d.weight && *d.weight != 0) {
            if (auto f = weight_file(dir, "weight_device"); !f.empty())
                write_file(dir, f, fmt::format("{}:{} {}", d.major, d.minor, *d.weight));
            else
                warn_ignored(fmt::format("linux.resources.blockIO.weightDevice[{}]", i),
                             "no I/O scheduler with weights (BFQ) is active");
        }
        if (d.leaf_weight && *d.leaf_weight != 0)
            warn_ignored(fmt::format("linux.resources.blockIO.weightDevice[{}].leafWeight", i),
                         "leaf weights are gone with CFQ (Linux 5.0)");
    }
    throttle(dir, "blkio.throttle.read_bps_device", b.throttle_read_bps_device);
    throttle(dir, "blkio.throttle.write_bps_device", b.throttle_write_bps_device);
    throttle(dir, "blkio.throttle.read_iops_device", b.throttle_read_iops_device);
    throttle(dir, "blkio.throttle.write_iops_device", b.throttle_write_iops_device);
}

void blkio_stats(const std::string& dir, Stats& s) {
    auto parse = [&](const char* file, std::vector<BlkioEntry>& out) {
        std::string text;
        if (!try_read_file(dir + "/" + file, text)) return;
        std::istringstream in(text);
        std::string line;
        while (std::getline(in, line)) {
            BlkioEntry e;
            char op[32] = {};
            unsigned long long v = 0;
            if (std::sscanf(line.c_str(), "%lu:%lu %31s %llu", &e.major, &e.minor, op, &v) == 4) {
                e.op = op;
                e.value = v;
                out.push_back(std::move(e));
            }
        }
    };
    parse("blkio.throttle.io_service_bytes_recursive", s.io_service_bytes);
    parse("blkio.throttle.io_serviced_recursive", s.io_serviced);
}

}  // namespace husk::runtime::cgroup::v1
