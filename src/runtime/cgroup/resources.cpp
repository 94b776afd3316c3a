#include "runtime/cgroup/resources.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "runtime/cgroup/backends.h"
#include "runtime/cgroup/convert.h"
#include "runtime/cgroup/file.h"
#include "runtime/cgroup/manager.h"
#include "sys/error.h"
#include "sys/log.h"

namespace husk::runtime::cgroup {

namespace {

bool needs_cpu(const oci::CpuResources& c) {
    return c.shares || c.quota || c.period || c.burst || c.realtime_runtime || c.realtime_period ||
           c.idle;
}

[[noreturn]] void unavailable(std::string_view field, std::string_view controller) {
    throw Error(fmt::format("{}: the {} cgroup controller is not available on this host", field,
                            controller));
}

}  // namespace

void warn_ignored(std::string_view field, std::string_view why) {
    log::warn("{} is ignored: {}", field, why);
}

uint64_t read_u64(const std::string& dir, std::string_view name) {
    std::string s;
    if (!try_read_file(fmt::format("{}/{}", dir, name), s) || s.empty()) return 0;
    if (s == "max") return UINT64_MAX;
    try {
        return std::stoull(s);
    } catch (const std::exception&) {
        return 0;
    }
}

bool needs_controller(const oci::Resources& res, std::string_view controller) {
    for (const auto& [key, value] : res.unified)
        if (key.substr(0, key.find('.')) == controller) return true;
    if (controller == "memory") return res.memory.has_value();
    if (controller == "pids") return res.pids.has_value();
    if (controller == "cpu") return res.cpu && needs_cpu(*res.cpu);
    if (controller == "cpuset")
        return res.cpu && (!res.cpu->cpus.empty() || !res.cpu->mems.empty());
    if (controller == "io" || controller == "blkio") return res.block_io.has_value();
    if (controller == "hugetlb") return !res.hugepage_limits.empty();
    if (controller == "rdma") return !res.rdma.empty();
    if (controller == "devices") return !res.devices.empty();
    if (controller == "net_cls") return res.network && res.network->class_id;
    if (controller == "net_prio") return res.network && !res.network->priorities.empty();
    return false;
}

namespace {

// Move every process of `dir` into its child kLeaf (made if missing). Processes forked
// meanwhile land in `dir` too: a few rounds, then EBUSY.
void move_to_leaf(const std::string& dir) {
    const std::string leaf = fmt::format("{}/{}", dir, kLeaf);
    make_dirs(leaf);
    for (int round = 0; round < 20; ++round) {
        const auto procs = read_procs(dir, false);
        if (procs.empty()) return;
        for (pid_t pid : procs) {
            try {
                write_file(leaf, "cgroup.procs", std::to_string(pid));
            } catch (const Error& e) {
                if (e.code() != ESRCH) throw;  // exited meanwhile
            }
        }
    }
    throw Error(
        fmt::format("move the processes of cgroup \"{}\" to \"{}\": more keep coming", dir, leaf),
        EBUSY);
}

}  // namespace

void enable_v2(const std::string& mountpoint, const std::string& dir,
               const std::vector<std::string>& wanted, bool vacate) {
    if (wanted.empty()) return;
    std::vector<std::string> chain;
    for (std::string d = parent_of(dir); d.size() >= mountpoint.size(); d = parent_of(d)) {
        chain.push_back(d);
        if (d.size() == mountpoint.size()) break;
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        auto available = split_words(read_file(*it, "cgroup.controllers"));
        auto enabled = split_words(read_file(*it, "cgroup.subtree_control"));
        std::string add;
        for (const auto& c : wanted) {
            if (has(enabled, c) || !has(available, c)) continue;
            if (!add.empty()) add += ' ';
            add += '+' + c;
        }
        if (add.empty()) continue;
        if (vacate && !read_procs(*it, false).empty()) move_to_leaf(*it);
        write_file(*it, "cgroup.subtree_control", add);
    }
}

void Manager::apply(const oci::Resources& res, bool creating) {
    if (!creating) validate(res);  // create() validated before making anything
    const bool updating = !creating;
    // Controllers only cgroup2 has (hybrid hosts) are enabled for this container on demand.
    if (v2_) {
        std::vector<std::string> want;
        for (const char* c : {"memory", "pids", "cpu", "cpuset", "io", "hugetlb", "rdma", "misc"}) {
            bool on_v1 = std::any_of(v1_.begin(), v1_.end(),
                                     [&](const HierarchyDir& h) { return has(h.controllers, c); });
            if (!on_v1 && needs_controller(res, c)) want.push_back(c);
        }
        enable_v2(v2_->mountpoint, v2_->dir, want, creating && rootless_);
    }
    // Each field goes to the hierarchy holding its controller: v1 first, else cgroup2.
    auto run = [&](std::string_view field, const char* v1_name, const char* v2_name, auto&& on_v1,
                   auto&& on_v2) {
        std::string d = dir_of(v1_name);
        if (!d.empty() && !is_v2(v1_name)) return on_v1(d);
        d = dir_of(v2_name);
        if (!d.empty() && is_v2(v2_name)) return on_v2(d);
        unavailable(field, v1_name);
    };
    if (res.memory)
        run(
            "linux.resources.memory", "memory", "memory",
            [&](const std::string& d) { v1::memory(d, *res.memory, updating); },
            [&](const std::string& d) { v2::memory(d, *res.memory, updating); });
    if (res.cpu && needs_cpu(*res.cpu))
        run(
            "linux.resources.cpu", "cpu", "cpu",
            [&](const std::string& d) { v1::cpu(d, *res.cpu); },
            [&](const std::string& d) { v2::cpu(d, *res.cpu); });
    if (needs_controller(res, "cpuset"))
        run(
            "linux.resources.cpu.cpus/mems", "cpuset", "cpuset",
            [&](const std::string& d) { v1::cpuset(d, *res.cpu); },
            [&](const std::string& d) { v2::cpuset(d, *res.cpu); });
    if (res.pids)
        run(
            "linux.resources.pids", "pids", "pids",
            [&](const std::string& d) { v1::pids(d, *res.pids); },
            [&](const std::string& d) { v2::pids(d, *res.pids); });
    if (res.block_io)
        run(
            "linux.resources.blockIO", "blkio", "io",
            [&](const std::string& d) { v1::blkio(d, *res.block_io); },
            [&](const std::string& d) { v2::io(d, *res.block_io); });
    if (!res.hugepage_limits.empty())
        run(
            "linux.resources.hugepageLimits", "hugetlb", "hugetlb",
            [&](const std::string& d) { v1::hugetlb(d, res.hugepage_limits); },
            [&](const std::string& d) { v2::hugetlb(d, res.hugepage_limits); });
    if (!res.devices.empty()) {
        // v2 needs no controller for devices: the program attaches to any cgroup2 directory.
        if (auto d = dir_of("devices"); !d.empty() && !is_v2("devices"))
            v1::devices(d, res.devices);
        else if (v2_)
            v2::devices(v2_->dir, res.devices);
        else
            unavailable("linux.resources.devices", "devices");
    }
    if (res.network) {
        if (res.network->class_id) {
            if (auto d = dir_of("net_cls"); !d.empty() && !is_v2("net_cls"))
                v1::net_cls(d, *res.network);
            else
                warn_ignored("linux.resources.network.classID",
                             "the net_cls controller is not mounted");
        }
        if (!res.network->priorities.empty()) {
            if (auto d = dir_of("net_prio"); !d.empty() && !is_v2("net_prio"))
                v1::net_prio(d, *res.network);
            else
                warn_ignored("linux.resources.network.priorities",
                             "the net_prio controller is not mounted");
        }
    }
    if (!res.rdma.empty()) {
        std::string d = dir_of("rdma");
        if (d.empty())
            warn_ignored("linux.resources.rdma", "the rdma controller is not available");
        else if (is_v2("rdma"))
            v2::rdma(d, res.rdma);
        else
            v1::rdma(d, res.rdma);
    }
    if (!res.unified.empty()) {
        if (!v2_)
            throw Error(
                "linux.resources.unified: needs cgroup v2, which this container's cgroup does not "
                "have (not mounted, or not joined at create on a hybrid host)");
        v2::unified(v2_->dir, res.unified);
    }
}

void Manager::update(const oci::Resources& res) {
    apply(res, false);
}

Stats Manager::stats() const {
    Stats s;
    auto on_v1 = [&](std::string_view c) {
        return std::any_of(v1_.begin(), v1_.end(),
                           [&](const HierarchyDir& h) { return has(h.controllers, c); });
    };
    for (const auto& h : v1_) {
        for (const auto& c : h.controllers) {
            if (c == "memory") v1::memory_stats(h.dir, s);
            if (c == "cpu") v1::cpu_stats(h.dir, s);
            if (c == "cpuacct") v1::cpuacct_stats(h.dir, s);
            if (c == "pids") v1::pids_stats(h.dir, s);
            if (c == "blkio") v1::blkio_stats(h.dir, s);
            if (c == "hugetlb") v1::hugetlb_stats(h.dir, s);
        }
    }
    if (v2_) {
        std::string text;
        try_read_file(v2_->dir + "/cgroup.controllers", text);
        auto enabled = split_words(text);
        auto use = [&](std::string_view c) { return !on_v1(c) && has(enabled, c); };
        if (use("memory")) v2::memory_stats(v2_->dir, s);
        if (!on_v1("cpu") && !on_v1("cpuacct")) v2::cpu_stats(v2_->dir, s);  // usage is core
        if (use("pids")) v2::pids_stats(v2_->dir, s);
        if (use("io")) v2::io_stats(v2_->dir, s);
        if (use("hugetlb")) v2::hugetlb_stats(v2_->dir, s);
    }
    return s;
}

uint64_t Manager::oom_kills() const {
    std::string d = dir_of("memory");
    if (d.empty()) return 0;
    return is_v2("memory") ? v2::oom_kills(d) : v1::oom_kills(d);
}

sys::UniqueFd Manager::oom_notifier() const {
    const std::string d = dir_of("memory");
    if (d.empty()) return {};
    if (is_v2("memory")) {
        sys::UniqueFd fd(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
        if (!fd) throw_sys("inotify_init1");
        const std::string events = d + "/memory.events";
        if (::inotify_add_watch(fd.get(), events.c_str(), IN_MODIFY) < 0)
            throw_sys("inotify_add_watch", events);
        return fd;
    }
    // v1: "<eventfd> <fd of memory.oom_control>" written to cgroup.event_control.
    sys::UniqueFd efd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!efd) throw_sys("eventfd");
    const std::string control = d + "/memory.oom_control";
    sys::UniqueFd cfd(::open(control.c_str(), O_RDONLY | O_CLOEXEC));
    if (!cfd) throw_sys("open", control);
    write_file(d, "cgroup.event_control", fmt::format("{} {}", efd.get(), cfd.get()));
    return efd;  // the kernel holds its own reference to memory.oom_control
}

}  // namespace husk::runtime::cgroup
