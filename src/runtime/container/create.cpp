// create: everything up to an init blocked on the exec fifo, or nothing at all.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "oci/spec.h"
#include "runtime/cgroup/manager.h"
#include "runtime/container.h"
#include "runtime/container/known_state.h"
#include "runtime/hooks.h"
#include "runtime/init.h"
#include "runtime/init_clone.h"
#include "runtime/namespaces.h"
#include "runtime/netdev.h"
#include "runtime/plan_build.h"
#include "runtime/procvirt.h"
#include "runtime/security/seccomp.h"
#include "runtime/self_protect.h"
#include "runtime/state.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"
#include "runtime/timens.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/fuse.h"
#include "sys/proc.h"
#include "sys/scope_guard.h"
#include "sys/syscalls.h"
#include "sys/unix_socket.h"
#include "sys/user_dirs.h"

namespace husk::runtime {
namespace {

using sys::UniqueFd;

std::string absolute(const std::string& path) {
    char real[PATH_MAX];
    if (!::realpath(path.c_str(), real)) throw_sys("resolve bundle", path);
    return real;
}

// Undo a half-made container: kill the init if there is one (pid > 0), remove the
// cgroup (when made) and the state directory. Runs on every failure path of create.
void undo_create(pid_t pid, cgroup::Manager* cg, StateDir& dir) noexcept {
    if (pid > 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
    try {
        if (cg) cg->destroy();
    } catch (...) {
    }
    try {
        dir.remove();
    } catch (...) {
    }
}

oci::State hook_state(const oci::Spec& spec, const std::string& id, const std::string& bundle,
                      const char* status, int pid) {
    oci::State st;
    st.oci_version = spec.oci_version;
    st.id = id;
    st.status = status;
    st.pid = pid;
    st.bundle = bundle;
    st.annotations = spec.annotations;
    return st;
}

// Hand a seccomp notify fd to the agent at linux.seccomp.listenerPath.
void pass_listener(int sock, pid_t pid, const oci::Spec& spec, const std::string& id,
                   const std::string& bundle) {
    UniqueFd fd(sys::recv_fd(sock));
    const auto& sc = *spec.linux_->seccomp;
    oci::State st = hook_state(spec, id, bundle, "creating", pid);
    security::send_to_listener(sc.listener_path, fd.get(),
                               security::container_process_state(st, sc.listener_metadata));
}

// The init's hooks get their state JSON as prefix + its host pid + suffix.
void plan_init_hooks(const oci::Spec& spec, const std::string& id, const std::string& bundle,
                     Plan& plan) {
    if (!spec.hooks) return;
    const auto& h = *spec.hooks;
    plan.ask_runtime_hooks = !h.prestart.empty() || !h.create_runtime.empty();
    plan.create_container_hooks = plan_hooks(h.create_container);
    plan.start_container_hooks = plan_hooks(h.start_container);
    constexpr int kMarker = 987654321;
    const std::string marker = std::to_string(kMarker);
    for (const char* status : {"creating", "created"}) {
        std::string json = oci::dump_hook_state(hook_state(spec, id, bundle, status, kMarker));
        auto at = json.find(marker);
        (std::string(status) == "creating" ? plan.hook_state_prefix : plan.start_state_prefix) =
            json.substr(0, at);
        plan.hook_state_suffix = json.substr(at + marker.size());
    }
}

// The hooks that run after create (poststart, poststop), kept in the state file.
std::string saved_hooks(const oci::Spec& spec) {
    if (!spec.hooks || (spec.hooks->poststart.empty() && spec.hooks->poststop.empty())) return "";
    oci::Spec s;
    s.oci_version = spec.oci_version;
    s.hooks = oci::Hooks{};
    s.hooks->poststart = spec.hooks->poststart;
    s.hooks->poststop = spec.hooks->poststop;
    return oci::dump_spec(s);
}

// Socket activation as runc does it: the fds come first, the env names them for pid 1.
void pass_listen_fds(int n, Plan& plan) {
    std::erase_if(plan.env, [](const std::string& e) {
        return e.rfind("LISTEN_FDS=", 0) == 0 || e.rfind("LISTEN_PID=", 0) == 0;
    });
    plan.env.push_back(fmt::format("LISTEN_FDS={}", n));
    plan.env.emplace_back("LISTEN_PID=1");
    plan.preserve_fds += n;
    plan.finalize();
}

// The network namespace the container will have: the one it joins, else its new one.
UniqueFd container_netns(const Plan& plan, pid_t pid) {
    for (const auto& j : plan.joins)
        if (j.nstype == CLONE_NEWNET) {
            UniqueFd fd(::fcntl(j.fd, F_DUPFD_CLOEXEC, 3));
            if (!fd) throw_sys("dup", j.path);
            return fd;
        }
    std::string path = fmt::format("/proc/{}/ns/net", pid);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_sys("open", path);
    return fd;
}

// The root's FUSE connection from the init (Plan::root_fuse), then its user namespace
// when it has one of its own: fuse-overlayfs serves the connection from there, detached.
// Until it runs, the init's steps in its root wait; when it cannot start, the connection's
// last fd closes with ours and they fail (ENOTCONN).
void start_root_server(int sock, const Plan& plan) {
    UniqueFd dev(sys::recv_fd(sock));
    UniqueFd userns;
    if (plan.in_user_ns()) userns.reset(sys::recv_fd(sock));
    sys::start_fuse_overlayfs(plan.root_fuse_options, dev.get(), userns ? userns.get() : -1);
}

// Wait for the init to be ready (or to fail); the parent's side of the sync socket.
// A sysinfo listener of --proc-virtualize lands in `procvirt_listener`.
void await_init(int sock, pid_t pid, const oci::Spec& spec, const Plan& plan, const std::string& id,
                const std::string& bundle, UniqueFd& procvirt_listener) {
    SyncMsg msg;
    for (;;) {
        int r = sync_recv(sock, msg);
        if (r < 0) throw_sys("read from container init", "", -r);
        if (r == 0) {
            int status = 0;
            ::waitpid(pid, &status, 0);
            throw Error(fmt::format("container init exited before it was ready ({})",
                                    WIFSIGNALED(status)
                                        ? fmt::format("signal {}", WTERMSIG(status))
                                        : fmt::format("status {}", WEXITSTATUS(status))));
        }
        if (msg.type == SyncType::error) throw sync_error(msg);
        if (msg.type == SyncType::ready) return;
        if (msg.type == SyncType::hooks_ask) {
            std::string st = oci::dump_hook_state(hook_state(spec, id, bundle, "creating", pid));
            run_hooks("prestart", spec.hooks->prestart, st);
            run_hooks("createRuntime", spec.hooks->create_runtime, st);
            if (int r = sync_send(sock, SyncType::hooks_done); r < 0)
                throw_sys("sync with container init", "", -r);
            continue;
        }
        if (msg.type == SyncType::seccomp_fd) {
            pass_listener(sock, pid, spec, id, bundle);
            continue;
        }
        if (msg.type == SyncType::procvirt_fd) {
            procvirt_listener.reset(sys::recv_fd(sock));
            if (!procvirt_listener) throw_sys("receive the sysinfo listener fd");
            continue;
        }
        if (msg.type == SyncType::fuse_fd && plan.root_fuse) {
            start_root_server(sock, plan);
            continue;
        }
        throw Error("container init sent an unexpected message");
    }
}

pid_t create_locked(const CreateOptions& o, StateDir& dir, KnownState* known) {
    std::string bundle = absolute(o.bundle.empty() ? "." : o.bundle);
    std::optional<oci::Spec> loaded;
    const oci::Spec& spec =
        o.spec ? *o.spec : loaded.emplace(oci::load_spec(bundle + "/config.json"));
    protect_runtime_binary(spec);  // may re-execute us from a read-only mount (CVE-2019-5736)
    bool have_console = !o.console_socket.empty() || o.console_fd >= 0;
    if (spec.process && spec.process->terminal && !have_console)
        throw Error("process.terminal is set: a --console-socket is needed to receive the pty");
    if (have_console && !(spec.process && spec.process->terminal))
        throw Error("--console-socket given but process.terminal is false");

    dir.create_new();
    std::unique_ptr<cgroup::Manager> cg;  // outlives the guard, which may destroy it
    cgroup::Manager* made_cg = nullptr;
    pid_t pid = -1;
    sys::ScopeGuard undo([&]() noexcept { undo_create(pid, made_cg, dir); });
    dir.lock();

    // What a killed create leaves is recorded before it exists (the cgroup now, the init's
    // pid as soon as it has one), so `delete --force` can undo it.
    std::optional<oci::Resources> res = effective_resources(spec);
    if (o.rootless && res) res->devices.clear();
    cg = cgroup::Manager::plan(spec.linux_ ? spec.linux_->cgroups_path : "", o.id,
                               res ? &*res : nullptr, o.rootless);
    Record rec;
    rec.id = o.id;
    rec.bundle = bundle;
    rec.created = now_rfc3339();
    rec.owner = sys::user_name();
    rec.cgroup = cg->save();
    rec.annotations = spec.annotations;
    rec.creating = true;
    dir.save(rec);
    cg->make(res ? &*res : nullptr);
    made_cg = cg.get();
    int cg_fd = cg->clone_into_fd();

    // --proc-virtualize: the files and their mounts, the time offset, in a copy of the spec.
    // Without it, nothing but the annotation's lookup.
    std::optional<oci::Spec> pv_spec;
    std::string pv_dir;
    long pv_start = 0;
    if (procvirt::requested(spec)) {
        pv_dir = dir.path() + "/procvirt";
        pv_spec = spec;
        procvirt::prepare(*pv_spec, pv_dir, *cg, pv_start);
    }
    const oci::Spec& run_spec = pv_spec ? *pv_spec : spec;

    PlanInputs in(cg->host_mounts());
    in.bundle = bundle;
    in.no_pivot = o.no_pivot;
    in.rootless = o.rootless;
    in.preserve_fds = o.preserve_fds;
    in.cgroup_ns_after_join = cg_fd < 0;
    in.cgroup_dirs = cg->dirs();
    in.seccomp_cache_dir = o.root + "/.seccomp-cache";
    unsigned long ns_flags = 0;
    Plan plan = build_plan(run_spec, in, ns_flags);
    plan.sysinfo_notify = pv_spec && procvirt::sysinfo_filter_possible(spec);
    plan_init_hooks(spec, o.id, bundle, plan);
    if (!o.no_new_keyring) plan.session_keyring = "_ses." + o.id;
    if (o.listen_fds > 0) pass_listen_fds(o.listen_fds, plan);

    std::string fifo = dir.fifo_path();
    if (::mkfifo(fifo.c_str(), 0600) != 0) throw_sys("mkfifo", fifo);
    // Read-write: the init's read() then blocks until `start` writes, instead of seeing EOF.
    UniqueFd fifo_fd(::open(fifo.c_str(), O_RDWR | O_CLOEXEC));
    if (!fifo_fd) throw_sys("open", fifo);
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) throw_sys("socketpair");
    UniqueFd parent_sock(sv[0]), child_sock(sv[1]);
    plan.sync_fd = child_sock.get();
    UniqueFd console;
    if (!o.console_socket.empty()) console = connect_console_socket(o.console_socket);
    plan.console_fd = o.console_fd >= 0 ? o.console_fd : console.get();
    plan.exec_fifo_fd = fifo_fd.get();

    sys::CloneArgs args;
    args.flags = ns_flags | (cg_fd >= 0 ? sys::kCloneIntoCgroup : 0);
    args.exit_signal = SIGCHLD;
    args.cgroup = cg_fd >= 0 ? static_cast<uint64_t>(cg_fd) : 0;
    std::optional<TimeNamespaceForChildren> timens;
    if (plan.new_time_ns && !plan.time_ns_in_init) timens.emplace(plan.time_offsets);
    plan.signals_to_reset = sys::signals_not_default();  // as the clone inherits them
    pid = clone_init(args, plan, parent_sock.get());
    timens.reset();
    child_sock.reset();
    // Recorded before it goes on (it waits for `go`, and exits if we die before).
    rec.pid = pid;
    if (auto st = sys::proc_stat(pid)) rec.start_time = st->start_time;
    dir.save(rec);
    fifo_fd.reset();
    if (spec.linux_ && !spec.linux_->net_devices.empty())
        move_net_devices(spec.linux_->net_devices, container_netns(plan, pid).get());
    plan.close_owned_fds();

    if (cg_fd < 0) cg->add_pid(pid);
    if (plan.new_user_ns) write_id_maps(pid, spec.linux_->uid_mappings, spec.linux_->gid_mappings);
    if (int r = sync_send(parent_sock.get(), SyncType::go, pid); r < 0)
        throw_sys("sync with container init", "", -r);
    UniqueFd sysinfo_listener;
    await_init(parent_sock.get(), pid, spec, plan, o.id, bundle, sysinfo_listener);

    if (!sys::process_alive(pid, rec.start_time))
        throw Error("container init exited before it was ready");
    if (pv_spec)
        procvirt::start_server(pv_dir, *cg, pid, pv_start, std::move(sysinfo_listener), o.rootless);
    rec.rootfs = plan.rootfs;
    rec.use_pid_ns = (ns_flags & CLONE_NEWPID) != 0;
    rec.new_keyring = !o.no_new_keyring;
    rec.config = saved_hooks(spec);
    rec.creating = false;
    std::string saved = dir.save(rec);
    if (!o.pid_file.empty()) sys::write_file_atomic(o.pid_file, std::to_string(pid));
    undo.dismiss();
    if (known) *known = KnownState{std::move(saved), std::move(rec), std::move(cg)};
    return pid;
}

}  // namespace

int socket_activation_fds() {
    const char* fds = std::getenv("LISTEN_FDS");
    const char* pid = std::getenv("LISTEN_PID");
    if (!fds || !pid || std::atoi(pid) != ::getpid()) return 0;
    int n = std::atoi(fds);
    return n > 0 && n < 65536 ? n : 0;
}

pid_t create(const CreateOptions& o, KnownState* known) {
    return with_context(fmt::format("create \"{}\"", o.id), [&] {
        StateDir dir(o.root, o.id);
        return create_locked(o, dir, known);
    });
}

}  // namespace husk::runtime
