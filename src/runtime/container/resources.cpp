// pause, resume, update, events: a running container's cgroup.
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "runtime/cgroup/manager.h"
#include "runtime/container.h"
#include "runtime/state.h"
#include "sys/error.h"

namespace husk::runtime {
namespace {

struct Opened {
    StateDir dir;
    Record rec;
    std::unique_ptr<cgroup::Manager> cg;
    std::string status;
};

Opened open_container(const std::string& root, const std::string& id) {
    Opened o{StateDir(root, id), {}, nullptr, {}};
    o.dir.lock();
    o.rec = o.dir.load();
    if (o.rec.cgroup.empty()) throw Error(fmt::format("container \"{}\" has no cgroup", id));
    o.cg = cgroup::Manager::load(o.rec.cgroup);
    o.status = status_of(o.dir, o.rec, o.cg->frozen());
    return o;
}

}  // namespace

void pause(const std::string& root, const std::string& id) {
    Opened o = open_container(root, id);
    if (o.status != "running" && o.status != "created")
        throw Error(fmt::format("container \"{}\" is not running (it is {})", id, o.status));
    o.cg->freeze();
}

void resume(const std::string& root, const std::string& id) {
    Opened o = open_container(root, id);
    if (o.status != "paused") throw Error(fmt::format("container \"{}\" is not paused", id));
    o.cg->thaw();
}

void update(const std::string& root, const std::string& id, const oci::Resources& res) {
    Opened o = open_container(root, id);
    if (o.status == "stopped") throw Error("container not running");
    with_context(fmt::format("update \"{}\"", id), [&] { o.cg->update(res); });
}

cgroup::Stats stats(const std::string& root, const std::string& id) {
    Opened o = open_container(root, id);
    if (o.status == "stopped") throw Error("container not running");
    return o.cg->stats();
}

std::string stats_event(const std::string& root, const std::string& id) {
    nlohmann::json j{
        {"type", "stats"}, {"id", id}, {"data", nlohmann::json::parse(stats(root, id).to_json())}};
    return j.dump();
}

void watch_events(const std::string& root, const std::string& id, int interval_ms,
                  void (*emit)(const std::string& line)) {
    sys::UniqueFd oom;
    uint64_t ooms = 0;
    {
        Opened o = open_container(root, id);
        oom = o.cg->oom_notifier();
        ooms = o.cg->oom_kills();
    }
    auto next = std::chrono::steady_clock::now();
    for (;;) {
        Opened o = open_container(root, id);
        if (o.status == "stopped") return;
        uint64_t now_ooms = o.cg->oom_kills();
        for (; ooms < now_ooms; ++ooms) emit(nlohmann::json{{"type", "oom"}, {"id", id}}.dump());
        if (std::chrono::steady_clock::now() >= next) {
            emit(nlohmann::json{{"type", "stats"},
                                {"id", id},
                                {"data", nlohmann::json::parse(o.cg->stats().to_json())}}
                     .dump());
            next += std::chrono::milliseconds(interval_ms);
        }
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
            next - std::chrono::steady_clock::now());
        int ms = static_cast<int>(std::max<long long>(0, std::min<long long>(wait.count(), 500)));
        pollfd p{oom.get(), POLLIN, 0};
        if (oom && ::poll(&p, 1, ms) > 0) {
            char buf[64];
            (void)!::read(oom.get(), buf, sizeof buf);
        } else if (!oom) {
            ::usleep(static_cast<useconds_t>(ms) * 1000);
        }
    }
}

}  // namespace husk::runtime
