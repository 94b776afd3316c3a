#include "engine/lifecycle.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/events.h"
#include "engine/health.h"
#include "engine/monitor.h"
#include "engine/network.h"
#include "engine/rootless.h"
#include "engine/volumes.h"
#include "image/store.h"
#include "runtime/cgroup/manager.h"
#include "runtime/container.h"
#include "runtime/signals.h"
#include "runtime/state.h"
#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/log.h"
#include "sys/user_dirs.h"

namespace husk::engine {

namespace {

uint64_t oom_kills(const EngineContext& ctx, const std::string& id) {
    try {
        runtime::Record r = runtime::StateDir(ctx.state_root(), id).load();
        return r.cgroup.empty() ? 0 : runtime::cgroup::Manager::load(r.cgroup)->oom_kills();
    } catch (const std::exception&) {
        return 0;
    }
}

// The image store: the caller's, else opened here (commands without images open none).
template <typename F>
void with_store(const EngineContext& ctx, F&& f) {
    if (ctx.store) return f(*ctx.store);
    image::Store store(ctx.data_root);
    f(store);
}

void delete_runtime_state(const EngineContext& ctx, const std::string& id) {
    try {
        runtime::remove(ctx.state_root(), id, true);
    } catch (const std::exception& e) {
        log::warn("deleting the runtime state of container {}: {}", id, e.what());
    }
}

// The root filesystem (mount and directory) and the record with everything in its
// directory (bundle, logs); its anonymous volumes too with `volumes` (rm -v, --rm).
// What the runtime could not remove (a cgroup, its state) keeps the record, for the
// error to be seen and `husk rm` to try again.
void remove_all_of(const EngineContext& ctx, Containers& db, const ContainerRecord& rec,
                   bool volumes) {
    disconnect_container(ctx, rec.id);  // connected still if its exit went unrecorded
    runtime::remove(ctx.state_root(), rec.id, true);
    with_store(ctx, [&](image::Store& s) {
        release_userns_rootfs(s, rec.id, rec.uid_maps, rec.gid_maps);
    });
    db.remove(rec.id);
    emit_container_event(ctx.data_root, rec, "destroy");
    if (volumes) remove_anonymous_volumes(ctx.data_root, rec);
}

// The container's init is gone (or nobody watches it any more): record how it ended,
// from the monitor's exit.json, else as unknown (-1), and kill whatever is left.
// Called with the container's lock held.
void record_exit(const EngineContext& ctx, Containers& db, ContainerRecord& rec) {
    rec.exit_code = -1;
    rec.finished = runtime::now_rfc3339();
    rec.restarting = false;
    std::string exit_file = db.dir(rec.id) + "/exit.json";
    if (!sys::exists_follow(exit_file))  // its monitor died with it: nobody said so yet
        emit_container_event(ctx.data_root, rec, "die", {{"exitCode", "-1"}});
    if (sys::exists_follow(exit_file)) {
        try {
            auto j = nlohmann::json::parse(sys::read_file(exit_file));
            rec.exit_code = j.value("exit_code", -1);
            rec.finished = j.value("finished_at", rec.finished);
        } catch (const std::exception& e) {
            log::warn("container {}: {}: {}", rec.id, exit_file, e.what());
        }
    }
    rec.oom_killed = oom_kills(ctx, rec.id) > 0;
    if (rec.oom_killed) emit_container_event(ctx.data_root, rec, "oom");
    disconnect_container(ctx, rec.id);
    delete_runtime_state(ctx, rec.id);
    rec.status = ContainerStatus::exited;
    rec.pid = 0;
    if (rec.auto_remove)
        remove_all_of(ctx, db, rec, true);
    else
        db.save(rec);
}

// A monitored container whose init has exited: its monitor wrote exit.json and, when it
// waits out a restart's backoff, said so there (docker shows it "restarting").
void between_runs(const Containers& db, ContainerRecord& rec) {
    auto text = sys::read_file_if_exists(db.dir(rec.id) + "/exit.json");
    if (!text) return;
    try {
        auto j = nlohmann::json::parse(*text);
        rec.restarting = j.value("restarting", false);
        rec.exit_code = j.value("exit_code", rec.exit_code);
        rec.finished = j.value("finished_at", rec.finished);
    } catch (const std::exception&) {
        // being written (it is renamed into place whole): as it was
    }
}

// Is the running container `id` frozen (husk pause)?
bool frozen(const EngineContext& ctx, const std::string& id) {
    try {
        return runtime::state(ctx.state_root(), id).status == "paused";
    } catch (const Error&) {
        return false;  // gone meanwhile
    }
}

// A record that says running while no monitor holds its lock: the monitor was killed.
// Whether a running one is paused.
std::optional<ContainerRecord> refresh(const EngineContext& ctx, Containers& db,
                                       ContainerRecord rec) {
    if (rec.status == ContainerStatus::running && db.monitored(rec.id)) {
        between_runs(db, rec);
        if (!rec.restarting) rec.paused = frozen(ctx, rec.id);
        return rec;
    }
    if (rec.status != ContainerStatus::running) return rec;
    auto lk = db.lock(rec.id);
    auto now = db.find(rec.id);
    if (!now) return std::nullopt;
    if (now->status != ContainerStatus::running || db.monitored(rec.id)) return now;
    log::debug("container {}: its monitor is gone", rec.id);
    record_exit(ctx, db, *now);
    if (now->auto_remove) return std::nullopt;
    return now;
}

oci::Spec load_config(const EngineContext& ctx, const ContainerRecord& rec) {
    return oci::load_spec(Containers(ctx.data_root).dir(rec.id) + "/config.json");
}

// A stop, kill or rm through husk: remembered in the record (a restart the monitor is
// about to make sees it under the lock) and told to the monitor, whose restart policy
// then ends (at once when it is waiting out a backoff).
void stopped_by_user(const EngineContext& ctx, const Containers& db, const std::string& id) {
    {
        auto lk = db.lock(id);
        auto now = db.find(id);
        if (!now || now->restart_policy == "no") return;
        if (!now->manually_stopped) {
            now->manually_stopped = true;
            db.save(*now);
        }
    }
    (void)ctx;
    tell_no_restart(db, id);
}

[[noreturn]] void no_such(const std::string& key) {
    throw Error(fmt::format("No such container: {}", key));
}

// A start cut short (its client killed between create and start) leaves an init blocked
// on its exec fifo under a live monitor, and a record that does not say running. Ends it:
// the init killed, the monitor's cleanup waited for (it takes the record's lock, so that
// is not held meanwhile). The record as it is then; nullopt once removed.
std::optional<ContainerRecord> end_interrupted_start(const EngineContext& ctx, Containers& db,
                                                     const std::string& id) {
    if (!db.monitored(id)) return db.find(id);
    {
        auto lk = db.lock(id);  // a start still going on holds it: wait for its outcome
        auto now = db.find(id);
        if (!now || now->status == ContainerStatus::running || !db.monitored(id)) return now;
    }
    log::debug("container {}: ending the start that was cut short", id);
    // Its monitor may still be creating the init (the runtime state not there yet to
    // kill): try again until the monitor has seen its init go.
    do {
        try {
            runtime::kill(ctx.state_root(), id, SIGKILL, true);
        } catch (const std::exception& e) {
            log::debug("container {}: {}", id, e.what());  // not created yet, or gone
        }
    } while (!db.wait_unmonitored(id, 100));
    return db.find(id);
}

}  // namespace

ContainerRecord lookup(const EngineContext& ctx, const std::string& key) {
    Containers db(ctx.data_root);
    auto rec = db.find(key);
    if (!rec) no_such(key);
    auto now = refresh(ctx, db, *rec);
    if (!now) no_such(key);
    return *now;
}

std::vector<ContainerRecord> list_containers(const EngineContext& ctx) {
    Containers db(ctx.data_root);
    std::vector<ContainerRecord> out;
    for (auto& rec : db.list()) {
        try {
            if (auto now = refresh(ctx, db, rec)) out.push_back(*now);
        } catch (const Error& e) {
            if (e.code() != ENOENT) throw;  // removed meanwhile
        }
    }
    return out;
}

void start_container(const EngineContext& ctx, ContainerRecord& rec,
                     const std::function<void()>& before_start) {
    Containers db(ctx.data_root);
    if (!end_interrupted_start(ctx, db, rec.id)) no_such(rec.id);
    auto lk = db.lock(rec.id);
    auto now = db.find(rec.id);
    if (!now) no_such(rec.id);
    rec = *now;
    if (rec.status == ContainerStatus::running && db.monitored(rec.id)) return;
    // a start through husk: the policy applies again, counted from here (docker)
    rec.manually_stopped = false;
    rec.restart_count = 0;
    launch_container(
        ctx, db, rec, [&] { return start_monitored(ctx, rec); }, before_start);
}

void launch_container(const EngineContext& ctx, Containers& db, ContainerRecord& rec,
                      const std::function<pid_t()>& create,
                      const std::function<void()>& before_start) {
    if (!rec.image_id.empty())  // its overlay is gone after a reboot: mount it again
        with_store(ctx, [&](image::Store& s) { s.remount_rootfs(rec.id); });
    if (!sys::exists_follow(rec.rootfs))
        throw Error(
            fmt::format("the root filesystem of container {} is gone: {}", rec.id, rec.rootfs),
            ExitCode{kExitEngineError});
    delete_runtime_state(ctx, rec.id);  // of an earlier run, if its monitor could not
    oci::Spec spec = load_config(ctx, rec);
    pid_t pid = 0;
    try {
        if (uses_user_netns(rec)) prepare_user_netns(ctx, rec);
        pid = create();
    } catch (...) {
        // the user's network holder, started for this container, goes unless another needs it
        if (uses_user_netns(rec)) disconnect_container(ctx, rec.id);
        throw;
    }
    try {
        const oci::Namespace* net = spec.linux_ ? spec.linux_->find_namespace("network") : nullptr;
        // rootless, the init brings it up itself (runtime Plan::loopback_up)
        if (net && net->path.empty() && !sys::rootless()) loopback_up(pid);
        if (connects(rec.network) || !rec.networks.empty()) {
            // the monitor holds slirp4netns's exit pipe from now on: a husk killed
            // before this point takes slirp4netns with it, a monitor killed later too
            sys::UniqueFd helper_exit = connect_container(ctx, rec, pid);
            if (helper_exit) hand_to_monitor(db, rec.id, helper_exit.get());
        }
        if (before_start) before_start();
        runtime::start(ctx.state_root(), rec.id);
    } catch (const std::exception& e) {
        disconnect_container(ctx, rec.id);
        delete_runtime_state(ctx, rec.id);  // the monitor sees its init go and cleans up
        throw Error(e.what(), ExitCode{kExitEngineError});
    }
    rec.status = ContainerStatus::running;
    rec.pid = pid;
    rec.started = runtime::now_rfc3339();
    rec.finished.clear();
    rec.exit_code = 0;
    rec.oom_killed = false;
    reset_health(ctx.data_root, rec);
    db.save(rec);
    emit_container_event(ctx.data_root, rec, "start");
}

int stop_signal_of(const EngineContext& ctx, const ContainerRecord& rec) {
    try {
        oci::Spec spec = load_config(ctx, rec);
        auto it = spec.annotations.find("org.opencontainers.image.stopSignal");
        if (it != spec.annotations.end()) return runtime::parse_signal(it->second);
    } catch (const std::exception& e) {
        log::warn("container {}: stop signal: {}", rec.id, e.what());
    }
    return SIGTERM;
}

void stop_container(const EngineContext& ctx, const ContainerRecord& rec, int timeout_s) {
    if (rec.status != ContainerStatus::running) return;
    refuse_if_paused(rec, "stopping or killing");
    Containers db(ctx.data_root);
    stopped_by_user(ctx, db, rec.id);
    int sig = stop_signal_of(ctx, rec);
    emit_container_event(ctx.data_root, rec, "kill", {{"signal", std::to_string(sig)}});
    try {
        runtime::kill(ctx.state_root(), rec.id, sig, false);
    } catch (const std::exception& e) {
        log::debug("stop {}: {}", rec.id, e.what());  // exited meanwhile
    }
    if (!db.wait_unmonitored(rec.id, timeout_s < 0 ? -1 : timeout_s * 1000)) {
        try {
            runtime::kill(ctx.state_root(), rec.id, SIGKILL, true);
        } catch (const std::exception& e) {
            log::debug("stop {}: {}", rec.id, e.what());
        }
        db.wait_unmonitored(rec.id);
    }
    if (auto now = db.find(rec.id)) refresh(ctx, db, *now);  // a monitor killed meanwhile
    emit_container_event(ctx.data_root, rec, "stop");
}

void kill_container(const EngineContext& ctx, const ContainerRecord& rec, int sig) {
    if (rec.status != ContainerStatus::running)
        throw Error(fmt::format("Cannot kill container: {}: Container {} is not running", rec.name,
                                rec.id));
    refuse_if_paused(rec, "stopping or killing");
    stopped_by_user(ctx, Containers(ctx.data_root), rec.id);
    try {
        runtime::kill(ctx.state_root(), rec.id, sig, false);
    } catch (const Error&) {
        // between two runs (or about to be): nothing to signal, and the restart is off now
        if (rec.restart_policy == "no") throw;
    }
    emit_container_event(ctx.data_root, rec, "kill", {{"signal", std::to_string(sig)}});
}

void refuse_if_paused(const ContainerRecord& rec, const char* what) {
    if (rec.paused)
        throw Error(
            fmt::format("Container {} is paused. Unpause the container before {}", rec.id, what));
}

void pause_container(const EngineContext& ctx, const ContainerRecord& rec) {
    if (rec.status != ContainerStatus::running)
        throw Error(fmt::format("Container {} is not running", rec.id));
    if (rec.paused) throw Error(fmt::format("Container {} is already paused", rec.id));
    runtime::pause(ctx.state_root(), rec.id);
}

void unpause_container(const EngineContext& ctx, const ContainerRecord& rec) {
    if (!rec.paused) throw Error(fmt::format("Container {} is not paused", rec.id));
    runtime::resume(ctx.state_root(), rec.id);
}

void remove_container(const EngineContext& ctx, const ContainerRecord& rec, bool force,
                      bool volumes) {
    Containers db(ctx.data_root);
    if (rec.status == ContainerStatus::running && !force)
        throw Error(
            fmt::format("You cannot remove a running container {}. Stop the container before "
                        "attempting removal or force remove",
                        rec.id));
    if (rec.status == ContainerStatus::running) stopped_by_user(ctx, db, rec.id);
    auto now = end_interrupted_start(ctx, db, rec.id);
    if (now && now->status == ContainerStatus::running) {
        try {
            runtime::kill(ctx.state_root(), rec.id, SIGKILL, true);
        } catch (const std::exception& e) {
            log::debug("rm {}: {}", rec.id, e.what());
        }
        db.wait_unmonitored(rec.id);
        now = db.find(rec.id);
    }
    if (!now) return;  // removed by its monitor (--rm)
    auto lk = db.lock(rec.id);
    remove_all_of(ctx, db, *now, volumes);
}

int wait_container(const EngineContext& ctx, const ContainerRecord& rec) {
    Containers db(ctx.data_root);
    std::optional<int> code;
    if (rec.status == ContainerStatus::running) {
        // The monitor tells its attach clients the exit code: known even when the
        // container is removed at its exit (--rm).
        try {
            auto sock = connect_attach(db, rec.id);
            code = read_exit_code(sock.get());
        } catch (const std::exception& e) {
            log::debug("wait {}: {}", rec.id, e.what());  // the monitor is gone already
        }
        db.wait_unmonitored(rec.id);
    }
    auto now = db.find(rec.id);
    if (!now) {
        if (code) return *code;
        no_such(rec.id);  // removed when it exited (--rm)
    }
    auto up = refresh(ctx, db, *now);
    return up ? up->exit_code : code.value_or(-1);
}

void cleanup_container(const EngineContext& ctx, const std::string& id) {
    Containers db(ctx.data_root);
    if (!db.find(id)) return;
    auto lk = db.lock(id);
    auto rec = db.find(id);
    if (!rec) return;
    record_exit(ctx, db, *rec);
}

std::string container_config_json(const EngineContext& ctx, const ContainerRecord& rec) {
    return sys::read_file(Containers(ctx.data_root).dir(rec.id) + "/config.json");
}

}  // namespace husk::engine
