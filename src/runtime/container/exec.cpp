// exec: a new process in a running container's namespaces and cgroup.
//
// The PID namespace applies to children only: we setns(CLONE_NEWPID) ourselves (we
// are single-threaded and never fork anything else afterwards), so the process we
// clone is born inside the container's PID namespace. It joins the other namespaces
// itself (user first, mount last), then sets up as the init does.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "sys/user_dirs.h"

#include "oci/spec.h"
#include "runtime/cgroup/manager.h"
#include "runtime/child_wait.h"
#include "runtime/container.h"
#include "runtime/init.h"
#include "runtime/plan_build.h"
#include "runtime/process_attrs.h"
#include "runtime/procvirt.h"
#include "runtime/self_protect.h"
#include "runtime/state.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"
#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/proc.h"
#include "sys/syscalls.h"
#include "sys/unix_socket.h"

namespace husk::runtime {
namespace {

using sys::UniqueFd;

struct NsFile {
    const char* name;
    int flag;
};
// Joined in this order: the user namespace first (it grants the rights for the
// others), the mount namespace last (it changes our root).
constexpr NsFile kJoinOrder[] = {{"user", CLONE_NEWUSER},     {"ipc", CLONE_NEWIPC},
                                 {"uts", CLONE_NEWUTS},       {"net", CLONE_NEWNET},
                                 {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
                                 {"mnt", CLONE_NEWNS}};

// Run on `cpus` until destroyed, then on the CPUs we had.
class InitialAffinity {
  public:
    explicit InitialAffinity(const cpu_set_t& cpus) {
        if (::sched_getaffinity(0, sizeof saved_, &saved_) != 0) throw_sys("sched_getaffinity");
        if (::sched_setaffinity(0, sizeof cpus, &cpus) != 0)
            throw_sys("sched_setaffinity (process.execCPUAffinity.initial)");
    }
    ~InitialAffinity() { ::sched_setaffinity(0, sizeof saved_, &saved_); }
    InitialAffinity(const InitialAffinity&) = delete;
    InitialAffinity& operator=(const InitialAffinity&) = delete;

  private:
    cpu_set_t saved_{};
};

ino_t ns_inode(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

oci::Process exec_process_spec(const ExecOptions& o, const oci::Spec& spec) {
    if (!o.process_file.empty())
        return with_context(o.process_file,
                            [&] { return oci::parse_process(sys::read_file(o.process_file)); });
    if (o.args.empty()) throw Error("exec: a command (or --process) is required");
    oci::Process p = spec.process ? *spec.process : oci::Process{};
    p.args = o.args;
    p.terminal = o.tty;
    p.console_size.reset();
    for (const auto& e : o.env) {
        if (e.find('=') == std::string::npos)
            throw Error(fmt::format("--env \"{}\": expected KEY=VALUE", e));
        std::string key = e.substr(0, e.find('=') + 1);
        std::erase_if(p.env, [&](const std::string& x) { return x.rfind(key, 0) == 0; });
        p.env.push_back(e);
    }
    if (!o.cwd.empty()) p.cwd = o.cwd;
    if (!o.user.empty()) {
        auto colon = o.user.find(':');
        try {
            p.user.uid = static_cast<uint32_t>(std::stoul(o.user.substr(0, colon)));
            if (colon != std::string::npos)
                p.user.gid = static_cast<uint32_t>(std::stoul(o.user.substr(colon + 1)));
        } catch (...) {
            throw Error(fmt::format("--user \"{}\": expected uid[:gid]", o.user));
        }
    }
    if (!o.additional_gids.empty()) p.user.additional_gids = o.additional_gids;
    if (!o.caps.empty()) {
        if (!p.capabilities) p.capabilities.emplace();
        for (auto* set :
             {&p.capabilities->bounding, &p.capabilities->effective, &p.capabilities->permitted})
            set->insert(set->end(), o.caps.begin(), o.caps.end());
    }
    if (o.no_new_privs) p.no_new_privileges = true;
    return p;
}

}  // namespace

int exec(const ExecOptions& o) {
    return with_context(fmt::format("exec in \"{}\"", o.id), [&]() -> int {
        StateDir dir(o.root, o.id);
        dir.lock();
        Record rec = dir.load();
        std::unique_ptr<cgroup::Manager> cg =
            rec.cgroup.empty() ? nullptr : cgroup::Manager::load(rec.cgroup);
        std::string status = status_of(dir, rec, cg && cg->frozen());
        if (status == "stopped") throw Error("cannot exec in a stopped container");
        if (status == "paused" && !o.ignore_paused)
            throw Error("cannot exec in a paused container");

        oci::Spec spec = oci::load_spec(rec.bundle + "/config.json");
        // The exec'd process is a clone of us until its execve: same defence as create.
        protect_runtime_binary(spec);
        oci::Process proc = exec_process_spec(o, spec);
        bool have_console = !o.console_socket.empty();
        if (proc.terminal && !have_console && o.detach)
            throw Error("a detached exec with a terminal needs --console-socket");

        Plan plan;
        plan.preserve_fds = o.preserve_fds;
        if (rec.new_keyring) plan.session_keyring = "_ses." + o.id;  // the init's, as runc
        const oci::Seccomp* sc =
            spec.linux_ && spec.linux_->seccomp ? &*spec.linux_->seccomp : nullptr;
        plan_process_attrs(
            proc,
            spec.linux_ && spec.linux_->memory_policy ? &*spec.linux_->memory_policy : nullptr,
            /*exec=*/true, plan.attrs);
        plan_process_security(proc, sc, o.root + "/.seccomp-cache", plan);
        // --proc-virtualize: the process carries the container's sysinfo/affinity filter
        // when its server is there to take the listener (procvirt.h).
        UniqueFd procvirt_server;
        if (procvirt::sysinfo_filter_possible(spec))
            procvirt_server = procvirt::connect_server(dir.path() + "/procvirt");
        plan.sysinfo_notify = static_cast<bool>(procvirt_server);
        // execCPUAffinity.initial: the CPUs we (the runtime parent) run on while the process
        // is made and joins the cgroup; the clone inherits them, ours come back after.
        std::optional<InitialAffinity> initial;
        if (proc.exec_cpu_affinity && !proc.exec_cpu_affinity->initial.empty())
            initial.emplace(
                parse_cpu_set(proc.exec_cpu_affinity->initial, "process.execCPUAffinity.initial"));

        // The init's namespaces that differ from ours.
        std::string base = fmt::format("/proc/{}/ns/", rec.pid);
        for (const auto& ns : kJoinOrder) {
            std::string theirs = base + ns.name;
            if (ns_inode(theirs) == 0 ||
                ns_inode(theirs) == ns_inode(std::string("/proc/self/ns/") + ns.name))
                continue;
            PlannedNamespaceJoin j;
            UniqueFd fd(::open(theirs.c_str(), O_RDONLY | O_CLOEXEC));
            if (!fd) throw_sys("open namespace", theirs);
            j.fd = plan.own(std::move(fd));
            j.nstype = ns.flag;
            j.path = theirs;
            plan.joins.push_back(std::move(j));
        }
        // Check the init again now that its namespace files are open: a reused pid is not it.
        if (!sys::process_alive(rec.pid, rec.start_time))
            throw Error("cannot exec in a stopped container");
        // Rootless, we hold no privilege on the host to lose: enter the container's user
        // namespace ourselves (we are single-threaded), so that joining its PID namespace
        // is allowed (that takes CAP_SYS_ADMIN over it); the clone is born inside.
        if (sys::rootless()) {
            auto user = std::find_if(plan.joins.begin(), plan.joins.end(),
                                     [](const auto& j) { return j.nstype == CLONE_NEWUSER; });
            if (user != plan.joins.end()) {
                if (::setns(user->fd, CLONE_NEWUSER) != 0)
                    throw_sys("join user namespace", user->path);
                plan.joins.erase(user);
            }
        }
        std::string pidns = base + "pid";
        if (ns_inode(pidns) != ns_inode("/proc/self/ns/pid")) {
            UniqueFd fd(::open(pidns.c_str(), O_RDONLY | O_CLOEXEC));
            if (!fd || ::setns(fd.get(), CLONE_NEWPID) != 0) throw_sys("join PID namespace", pidns);
        }

        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
            throw_sys("socketpair");
        UniqueFd parent_sock(sv[0]), child_sock(sv[1]);
        plan.sync_fd = child_sock.get();
        UniqueFd console, ours, theirs;
        if (have_console) {
            console = connect_console_socket(o.console_socket);
        } else if (proc.terminal) {
            int cs[2];
            if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cs) != 0)
                throw_sys("socketpair");
            ours.reset(cs[0]);
            theirs.reset(cs[1]);
        }
        plan.console_fd = console ? console.get() : theirs.get();

        ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        int cg_fd = cg ? cg->clone_into_fd() : -1;
        sys::CloneArgs args;
        args.flags = cg_fd >= 0 ? sys::kCloneIntoCgroup : 0;
        args.exit_signal = SIGCHLD;
        args.cgroup = cg_fd >= 0 ? static_cast<uint64_t>(cg_fd) : 0;
        pid_t pid = sys::clone3(args);
        if (pid < 0) throw_sys("clone3");
        if (pid == 0) {
            ::close(sv[0]);
            exec_main(plan);
        }
        initial.reset();
        child_sock.reset();
        theirs.reset();
        plan.close_owned_fds();
        try {
            if (cg && cg_fd < 0) cg->add_pid(pid);
            if (int r = sync_send(parent_sock.get(), SyncType::go, pid); r < 0)
                throw_sys("sync with exec process", "", -r);
            SyncMsg msg;
            for (;;) {
                int r = sync_recv(parent_sock.get(), msg);
                if (r <= 0) throw Error("the exec process died before it was ready");
                if (msg.type == SyncType::error) throw sync_error(msg);
                if (msg.type != SyncType::procvirt_fd) break;
                UniqueFd listener(sys::recv_fd(parent_sock.get()));
                procvirt::pass_listener(procvirt_server.get(), listener.get());
            }
        } catch (...) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            throw;
        }
        if (!o.pid_file.empty()) sys::write_file_atomic(o.pid_file, std::to_string(pid));
        if (o.detach) return 0;
        UniqueFd master;
        if (ours) master.reset(sys::recv_fd(ours.get()));
        forward_signals_to(pid);
        if (master) relay_terminal(master.get());
        return wait_child(pid);
    });
}

}  // namespace husk::runtime
