#include "engine/update.h"

#include <unistd.h>

#include <cmath>

#include <fmt/format.h>

#include "engine/bundle.h"
#include "engine/lifecycle.h"
#include "engine/restart.h"
#include "monitor/restart_policy.h"
#include "oci/spec.h"
#include "runtime/container.h"
#include "sys/error.h"
#include "sys/fileutil.h"

namespace husk::engine {

oci::Resources update_resources(const UpdateOptions& o, int host_cpus) {
    oci::Resources r;
    RunOptions ro;
    parse_memory_flags(ro, o.memory, o.memory_swap, "");
    r.memory = memory_resources(ro, host_swap_limit_supported);
    if (!o.cpus.empty()) {
        oci::CpuResources c;
        c.period = 100000;
        c.quota = std::llround(parse_cpus(o.cpus, host_cpus) * 100000);
        r.cpu = c;
    }
    if (o.pids_limit) r.pids = oci::PidsResources{*o.pids_limit};
    return r;
}

namespace {

// The fields `u` sets, over those of `into`.
void merge(oci::Resources& into, const oci::Resources& u) {
    if (u.memory) {
        if (!into.memory) into.memory = oci::MemoryResources{};
        into.memory->limit = u.memory->limit;
        into.memory->swap = u.memory->swap;
    }
    if (u.cpu) {
        if (!into.cpu) into.cpu = oci::CpuResources{};
        into.cpu->quota = u.cpu->quota;
        into.cpu->period = u.cpu->period;
    }
    if (u.pids) into.pids = u.pids;
}

}  // namespace

void update_container(const EngineContext& ctx, const ContainerRecord& rec,
                      const UpdateOptions& o) {
    if (o.empty())
        throw Error("you must provide one or more flags when using this command", ExitCode{1});
    if (o.restart) {
        check_restart_policy(*o.restart);
        if (rec.auto_remove && *o.restart != "no")
            throw Error(
                "Restart policy cannot be updated because AutoRemove is enabled for the "
                "container");
    }
    oci::Resources u = update_resources(o, static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)));
    Containers db(ctx.data_root);
    auto lk = db.lock(rec.id);
    with_context(fmt::format("update container {}", rec.name), [&] {
        if (o.restart) {
            auto now = db.find(rec.id);
            if (!now) throw Error(fmt::format("No such container: {}", rec.id));
            now->restart_policy = *o.restart;
            db.save(*now);
            // for its monitor, which reads it at the container's next exit
            sys::write_file_atomic(fmt::format("{}/{}", db.dir(rec.id), HUSK_RESTART_POLICY_FILE),
                                   fmt::format("{}\n", *o.restart), 0600);
        }
        if (o.resources_empty()) return;
        if (rec.status == ContainerStatus::running) runtime::update(ctx.state_root(), rec.id, u);
        // kept for its next start
        std::string path = db.dir(rec.id) + "/config.json";
        oci::Spec spec = oci::load_spec(path);
        if (!spec.linux_) spec.linux_ = oci::Linux{};
        if (!spec.linux_->resources) spec.linux_->resources = oci::Resources{};
        merge(*spec.linux_->resources, u);
        sys::write_file_atomic(path, oci::dump_spec(spec), 0600);
    });
}

void rename_container(const EngineContext& ctx, const ContainerRecord& rec,
                      const std::string& name) {
    Containers(ctx.data_root).rename(rec.id, name);
}

}  // namespace husk::engine
