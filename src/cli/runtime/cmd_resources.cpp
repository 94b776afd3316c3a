// pause, resume, update, events.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <optional>

#include <fmt/format.h>

#include "cli/runtime/commands.h"
#include "oci/spec.h"
#include "runtime/container.h"
#include "sys/error.h"
#include "sys/fileutil.h"

namespace husk::cli {
namespace {

// "64m", "1g", "512k", "1048576" → bytes; "-1" stays -1 (unlimited).
int64_t parse_bytes(const std::string& flag, const std::string& v) {
    if (v == "-1") return -1;
    size_t pos = 0;
    double n = 0;
    try {
        n = std::stod(v, &pos);
    } catch (...) {
        throw Error(fmt::format("{}: invalid size \"{}\"", flag, v));
    }
    std::string unit = v.substr(pos);
    for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!unit.empty() && unit.back() == 'b') unit.pop_back();
    double mult = unit.empty()  ? 1
                  : unit == "k" ? 1024.0
                  : unit == "m" ? 1024.0 * 1024
                  : unit == "g" ? 1024.0 * 1024 * 1024
                                : -1;
    if (mult < 0 || n < 0) throw Error(fmt::format("{}: invalid size \"{}\"", flag, v));
    return static_cast<int64_t>(n * mult);
}

struct UpdateFlags {
    std::string resources;
    std::optional<uint16_t> blkio_weight;
    std::optional<uint64_t> cpu_period, cpu_rt_period, cpu_share;
    std::optional<int64_t> cpu_quota, cpu_rt_runtime, pids_limit;
    std::string cpuset_cpus, cpuset_mems, memory, memory_reservation, memory_swap, kernel_memory,
        kernel_memory_tcp;
};

oci::Resources resources_from(const UpdateFlags& f) {
    oci::Resources r;
    if (!f.resources.empty()) {
        std::string text;
        if (f.resources == "-") {
            text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
        } else {
            text = sys::read_file(f.resources);
        }
        auto spec = with_context("--resources", [&] {
            return oci::parse_spec("{\"ociVersion\":\"1.0.0\",\"linux\":{\"resources\":" + text +
                                   "}}");
        });
        r = *spec.linux_->resources;
    }
    auto mem = [&]() -> oci::MemoryResources& {
        if (!r.memory) r.memory.emplace();
        return *r.memory;
    };
    auto cpu = [&]() -> oci::CpuResources& {
        if (!r.cpu) r.cpu.emplace();
        return *r.cpu;
    };
    if (!f.memory.empty()) mem().limit = parse_bytes("--memory", f.memory);
    if (!f.memory_reservation.empty())
        mem().reservation = parse_bytes("--memory-reservation", f.memory_reservation);
    if (!f.memory_swap.empty()) mem().swap = parse_bytes("--memory-swap", f.memory_swap);
    if (!f.kernel_memory.empty()) mem().kernel = parse_bytes("--kernel-memory", f.kernel_memory);
    if (!f.kernel_memory_tcp.empty())
        mem().kernel_tcp = parse_bytes("--kernel-memory-tcp", f.kernel_memory_tcp);
    if (f.cpu_period) cpu().period = f.cpu_period;
    if (f.cpu_quota) cpu().quota = f.cpu_quota;
    if (f.cpu_share) cpu().shares = f.cpu_share;
    if (f.cpu_rt_period) cpu().realtime_period = f.cpu_rt_period;
    if (f.cpu_rt_runtime) cpu().realtime_runtime = f.cpu_rt_runtime;
    if (!f.cpuset_cpus.empty()) cpu().cpus = f.cpuset_cpus;
    if (!f.cpuset_mems.empty()) cpu().mems = f.cpuset_mems;
    if (f.pids_limit) r.pids = oci::PidsResources{*f.pids_limit};
    if (f.blkio_weight) {
        if (!r.block_io) r.block_io.emplace();
        r.block_io->weight = f.blkio_weight;
    }
    return r;
}

void print_line(const std::string& line) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

}  // namespace

void add_resource_commands(CLI::App& app, Globals& g) {
    if (g.wants("pause")) {
        static std::string pause_id;
        auto* pause = app.add_subcommand("pause", "freeze every process of a container");
        pause->add_option("id", pause_id, "container id")->required();
        pause->callback([&g] { runtime::pause(g.root, pause_id); });
    }
    if (g.wants("resume")) {
        static std::string resume_id;
        auto* resume = app.add_subcommand("resume", "thaw a paused container");
        resume->add_option("id", resume_id, "container id")->required();
        resume->callback([&g] { runtime::resume(g.root, resume_id); });
    }

    if (g.wants("update")) {
        static std::string update_id;
        static UpdateFlags f;
        auto* up = app.add_subcommand("update", "change the resource limits of a container");
        up->add_option("--resources,-r", f.resources, "a linux.resources JSON file (- for stdin)");
        up->add_option("--blkio-weight", f.blkio_weight, "block IO weight (10-1000)");
        up->add_option("--cpu-period", f.cpu_period, "CPU CFS period (us)");
        up->add_option("--cpu-quota", f.cpu_quota, "CPU CFS quota (us)");
        up->add_option("--cpu-rt-period", f.cpu_rt_period, "CPU realtime period (us)");
        up->add_option("--cpu-rt-runtime", f.cpu_rt_runtime, "CPU realtime runtime (us)");
        up->add_option("--cpu-share", f.cpu_share, "CPU shares (relative weight)");
        up->add_option("--cpuset-cpus", f.cpuset_cpus, "CPUs to run on (0-3, 0,1)");
        up->add_option("--cpuset-mems", f.cpuset_mems, "memory nodes (0-3, 0,1)");
        up->add_option("--memory", f.memory, "memory limit (e.g. 64m)");
        up->add_option("--memory-reservation", f.memory_reservation, "memory soft limit");
        up->add_option("--memory-swap", f.memory_swap, "memory + swap limit (-1 unlimited)");
        up->add_option("--kernel-memory", f.kernel_memory,
                       "kernel memory limit (ignored by modern kernels)");
        up->add_option("--kernel-memory-tcp", f.kernel_memory_tcp, "kernel TCP memory limit");
        up->add_option("--pids-limit", f.pids_limit, "maximum number of tasks");
        up->add_option("id", update_id, "container id")->required();
        up->callback([&g] { runtime::update(g.root, update_id, resources_from(f)); });
    }

    if (g.wants("events")) {
        static std::string events_id;
        static bool stats_once = false;
        static int interval_s = 5;
        auto* ev = app.add_subcommand("events",
                                      "resource usage and OOM events of a container (JSON lines)");
        ev->add_flag("--stats", stats_once, "print one stats record and exit");
        ev->add_option("--interval", interval_s, "seconds between stats records (default 5)");
        ev->add_option("id", events_id, "container id")->required();
        ev->callback([&g] {
            if (stats_once) {
                print_line(runtime::stats_event(g.root, events_id));
                return;
            }
            if (interval_s <= 0) throw Error("--interval: must be at least 1 second");
            runtime::watch_events(g.root, events_id, interval_s * 1000, print_line);
        });
    }
}

}  // namespace husk::cli
