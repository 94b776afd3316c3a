// start, state, list, kill, delete, ps: each on the state directory of one id.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "oci/spec.h"
#include "runtime/cgroup/manager.h"
#include "runtime/container.h"
#include "runtime/container/known_state.h"
#include "runtime/hooks.h"
#include "runtime/state.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/proc.h"
#include "sys/syscalls.h"

namespace husk::runtime {
namespace {

using sys::UniqueFd;

std::shared_ptr<cgroup::Manager> load_cgroup(const Record& r) {
    if (r.cgroup.empty()) return nullptr;
    return cgroup::Manager::load(r.cgroup);
}

struct Loaded {
    StateDir dir;
    Record rec;
    std::shared_ptr<cgroup::Manager> cg;
    std::string status;
};

// The record of a locked state directory, its cgroup and status; parsed from state.json
// unless it holds what `known` says it holds.
void load_into(Loaded& l, const KnownState* known = nullptr) {
    std::string text = l.dir.read_text();
    if (known && text == known->text) {
        l.rec = known->rec;
        l.cg = known->cg;
    } else {
        l.rec = l.dir.parse(text);
        l.cg = load_cgroup(l.rec);
    }
    l.status = status_of(l.dir, l.rec, l.cg && l.cg->frozen());
}

Loaded load_locked(const std::string& root, const std::string& id,
                   const KnownState* known = nullptr) {
    Loaded l{StateDir(root, id), {}, nullptr, {}};
    l.dir.lock();
    load_into(l, known);
    return l;
}

oci::State to_state(const Record& r, const std::string& status) {
    oci::State s;
    s.oci_version = "1.2.0";
    s.id = r.id;
    s.status = status;
    s.pid = status == "stopped" ? 0 : r.pid;
    s.bundle = r.bundle;
    s.rootfs = r.rootfs;
    s.created = r.created;
    s.owner = r.owner;
    s.annotations = r.annotations;
    return s;
}

// A pidfd for the init, verified to be the process we created (not a reused pid).
UniqueFd init_pidfd(const Record& r) {
    UniqueFd fd(sys::pidfd_open(r.pid));
    if (!fd || !sys::process_alive(r.pid, r.start_time)) return UniqueFd();
    return fd;
}

// Wait until the init has exited (zombie or reaped), up to `timeout`.
bool wait_exit(const Record& r, std::chrono::milliseconds timeout) {
    UniqueFd fd = init_pidfd(r);
    if (!fd) return true;
    pollfd p{fd.get(), POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
    return n > 0;
}

void signal_all(Loaded& l, int sig, bool all) {
    // A rootless container may have no cgroup at all: then the init is all we can reach
    // (its PID namespace takes the others with it).
    if (all && l.cg && !l.cg->dirs().empty()) {
        l.cg->kill_all(sig);
        return;
    }
    UniqueFd fd = init_pidfd(l.rec);
    if (!fd) throw Error("container not running");
    if (sys::pidfd_send_signal(fd.get(), sig) != 0 && errno != ESRCH)
        throw_sys("kill", fmt::format("pid {}", l.rec.pid));
}

// The init holds the exec fifo open (close-on-exec) until it execs the container's
// program; `fifo` is our write end. POLLERR on a pipe's write end means that no reader is
// left: the init has exec'd (or exited).
void wait_for_execve(int fifo) {
    for (;;) {
        pollfd p{fifo, 0, 0};
        if (::poll(&p, 1, -1) < 0) {
            if (errno == EINTR) continue;
            throw_sys("wait for the container's execve");
        }
        if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) return;
    }
}

// poststart/poststop hooks kept in the state file at create.
std::optional<oci::Hooks> saved_hooks(const Record& r) {
    if (r.config.empty()) return std::nullopt;
    return oci::parse_spec(r.config).hooks;
}

// The cgroup, then the state directory; what could not be removed is named in the error,
// and a cgroup left keeps the state directory (which knows it) for another delete.
void destroy(Loaded& l) {
    std::string failed;
    try {
        if (l.cg) l.cg->destroy();
        l.dir.remove();
    } catch (const std::exception& e) {
        failed = e.what();
    }
    if (!failed.empty())
        throw Error(fmt::format("delete \"{}\": could not remove everything: {}", l.rec.id, failed),
                    EBUSY);
    if (auto hooks = saved_hooks(l.rec); hooks && !hooks->poststop.empty())
        run_hooks_warn("poststop", hooks->poststop,
                       oci::dump_hook_state(to_state(l.rec, "stopped")));
}

}  // namespace

void start(const std::string& root, const std::string& id, KnownState* known) {
    with_context(fmt::format("start \"{}\"", id), [&] {
        UniqueFd fd;
        std::vector<oci::Hook> poststart;
        std::string state_json;
        {
            Loaded l = load_locked(root, id, known);
            if (l.status != "created")
                throw Error(fmt::format("cannot start a container that is {}", l.status));
            std::string fifo = l.dir.fifo_path();
            // Non-blocking: ENXIO means nobody holds the fifo, i.e. the init is gone.
            fd.reset(::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
            if (!fd) {
                if (errno == ENXIO) throw Error("container init is not waiting (it exited)");
                throw_sys("open", fifo);
            }
            char c = '0';
            if (::write(fd.get(), &c, 1) != 1) throw_sys("write", fifo);
            if (::unlink(fifo.c_str()) != 0) throw_sys("unlink", fifo);
            if (auto hooks = saved_hooks(l.rec); hooks && !hooks->poststart.empty()) {
                poststart = std::move(hooks->poststart);
                state_json = oci::dump_hook_state(to_state(l.rec, "running"));
            }
        }  // unlocked: kill and delete need not wait for the execve below
        if (poststart.empty()) return;
        wait_for_execve(fd.get());
        run_hooks_warn("poststart", poststart, state_json);
    });
}

oci::State state(const std::string& root, const std::string& id) {
    Loaded l = load_locked(root, id);
    return to_state(l.rec, l.status);
}

std::vector<oci::State> list(const std::string& root) {
    std::vector<oci::State> out;
    for (const auto& id : list_ids(root)) {
        try {
            out.push_back(state(root, id));
        } catch (const Error&) {
            // Deleted meanwhile, or half-made: not listed.
        }
    }
    return out;
}

void kill(const std::string& root, const std::string& id, int sig, bool all) {
    Loaded l = load_locked(root, id);
    if (l.status == "stopped") throw Error("container not running");
    // Without a PID namespace the init's death does not end the others: --all
    // reaches them through the cgroup.
    signal_all(l, sig, all);
}

void remove(const std::string& root, const std::string& id, bool force, KnownState* known) {
    Loaded l{StateDir(root, id), {}, nullptr, {}};
    Error missing(fmt::format("container \"{}\" does not exist", id), ENOENT);
    try {
        l.dir.lock();  // a create still going on holds it: wait for its outcome
    } catch (const Error& e) {
        if (e.code() != ENOENT) throw;
        if (force) return;  // nothing to delete
        throw missing;
    }
    if (!l.dir.exists()) {  // a create killed before it recorded anything made nothing
        if (!force) throw missing;
        l.dir.remove();
        return;
    }
    load_into(l, known);
    if (l.status == "running" || l.status == "paused" || l.status == "creating") {
        if (!force)
            throw Error(fmt::format("cannot delete container \"{}\" that is not stopped: {}", id,
                                    l.status));
    }
    if (l.status != "stopped") {
        signal_all(l, SIGKILL, true);
        if (!wait_exit(l.rec, std::chrono::seconds(10)))
            throw Error(fmt::format("delete \"{}\": the init did not exit after SIGKILL", id));
    } else if ((!l.rec.use_pid_ns || l.rec.creating) && l.rec.pid > 0 && l.cg &&
               !l.cg->pids().empty()) {
        // The init is gone but, without a PID namespace (or before it was complete), its
        // children may live on. (Only once it had a pid is the cgroup known to be ours.)
        l.cg->kill_all(SIGKILL);
    }
    destroy(l);
}

std::vector<pid_t> processes(const std::string& root, const std::string& id) {
    Loaded l = load_locked(root, id);
    if (l.cg) return l.cg->pids();
    if (l.status == "stopped") return {};
    return {l.rec.pid};
}

}  // namespace husk::runtime
