#include "engine/restart.h"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "engine/events.h"
#include "engine/lifecycle.h"
#include "engine/monitor.h"
#include "engine/network.h"
#include "engine/record.h"
#include "engine/run.h"
#include "monitor/restart_policy.h"
#include "runtime/container.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/syscalls.h"
#include "sys/user_dirs.h"

namespace husk::engine {

namespace {

husk_restart_policy parsed(const std::string& s) {
    husk_restart_policy p{};
    if (husk_restart_parse(s.c_str(), &p) != 0)
        throw Error(fmt::format("invalid restart policy '{}': use no, on-failure[:max-retries], "
                                "always or unless-stopped",
                                s),
                    ExitCode{kExitEngineError});
    return p;
}

// The fds husk-monitor gives `container-restart` (monitor/husk-monitor.c).
enum : int { kReportFd = 3, kOutFd = 4, kErrFd = 5, kInFd = 6, kConsoleFd = 7 };

// The init made in this process with the container's stdio on the monitor's fds; our own
// stdio is ours again afterwards (our errors go to the report, never into its log).
pid_t create_here(const EngineContext& ctx, const ContainerRecord& rec, const std::string& dir) {
    sys::UniqueFd saved[3];
    for (int fd = 0; fd < 3; ++fd) saved[fd].reset(::fcntl(fd, F_DUPFD_CLOEXEC, 8));
    auto restore = [&] {
        for (int fd = 0; fd < 3; ++fd) ::dup2(saved[fd].get(), fd);
    };
    ::dup2(kInFd, STDIN_FILENO);
    if (!rec.tty) {
        ::dup2(kOutFd, STDOUT_FILENO);
        ::dup2(kErrFd, STDERR_FILENO);
    }
    try {
        runtime::CreateOptions co;
        co.root = ctx.state_root();
        co.id = rec.id;
        co.rootless = sys::unprivileged();  // root of a user namespace too
        co.bundle = dir;
        co.console_fd = rec.tty ? kConsoleFd : -1;
        pid_t pid = runtime::create(co);
        restore();
        return pid;
    } catch (...) {
        restore();
        throw;
    }
}

}  // namespace

void check_restart_policy(const std::string& policy) {
    parsed(policy);
}

bool restartable_at_boot(const ContainerRecord& rec) {
    husk_restart_policy p{};
    if (husk_restart_parse(rec.restart_policy.c_str(), &p) != 0) return false;
    switch (p.kind) {
        case HUSK_RESTART_ALWAYS:
            return true;
        case HUSK_RESTART_UNLESS_STOPPED:
            return !rec.manually_stopped;
        case HUSK_RESTART_ON_FAILURE:
            return !rec.manually_stopped && rec.exit_code != 0;
        default:
            return false;
    }
}

void start_all_restartable(
    const EngineContext& ctx, const std::function<void(const ContainerRecord&)>& started,
    const std::function<void(const ContainerRecord&, const std::exception&)>& failed) {
    for (auto& rec : list_containers(ctx)) {
        if (rec.status == ContainerStatus::running || !restartable_at_boot(rec)) continue;
        try {
            ContainerRecord r = rec;
            start_container(ctx, r);
            started(r);
        } catch (const std::exception& e) {
            failed(rec, e);
        }
    }
}

int restart_in_monitor(const EngineContext& ctx, const std::string& id) {
    try {
        Containers db(ctx.data_root);
        // removed meanwhile (rm -f): its lock file must not be made again under an rm
        if (!db.find(id)) throw Error(fmt::format("No such container: {}", id));
        auto lk = db.lock(id);
        auto rec = db.find(id);
        if (!rec) throw Error(fmt::format("No such container: {}", id));
        if (rec->manually_stopped) {
            write_str(kReportFd, "no stopped through husk\n");
            return 1;
        }
        // the run that ended: its network and runtime state go before the next one
        disconnect_container(ctx, id);
        runtime::remove(ctx.state_root(), id, true);
        std::string dir = db.dir(id);
        launch_container(ctx, db, *rec, [&] { return create_here(ctx, *rec, dir); });
        ++rec->restart_count;
        db.save(*rec);
        write_str(kReportFd, fmt::format("ok {}\n", rec->pid));
        return 0;
    } catch (const std::exception& e) {
        std::string msg = e.what();
        for (char& c : msg)
            if (c == '\n') c = ' ';
        write_str(kReportFd, fmt::format("err {}\n", msg));
        return 1;
    }
}

std::string systemd_unit(const EngineContext& ctx, const ContainerRecord& rec,
                         const std::string& husk_path) {
    std::string husk = fmt::format("{} --root {}", husk_path, ctx.data_root);
    return fmt::format(
        "# container-{name}.service\n"
        "# written by husk generate systemd\n"
        "\n"
        "[Unit]\n"
        "Description=husk container-{name}.service\n"
        "Wants=network-online.target\n"
        "After=network-online.target\n"
        "\n"
        "[Service]\n"
        "Restart=on-failure\n"
        "TimeoutStopSec=70\n"
        "ExecStart={husk} start {id}\n"
        "ExecStop={husk} stop -t 10 {id}\n"
        "ExecStopPost={husk} stop -t 10 {id}\n"
        "Type=forking\n"
        "\n"
        "[Install]\n"
        "WantedBy=default.target\n",
        fmt::arg("name", rec.name), fmt::arg("husk", husk), fmt::arg("id", rec.id));
}

}  // namespace husk::engine
