// build_plan: the parent's planning, one concept after the other, in the order whose
// errors a user sees first. Each step lives in its concept's file with the child side
// that applies it (namespaces, mounts, devices, process, security/lsm).
#include "runtime/plan_build.h"

#include <sched.h>
#include <unistd.h>

#include "runtime/devices.h"
#include "runtime/mounts.h"
#include "runtime/namespaces.h"
#include "runtime/process.h"
#include "runtime/process_attrs.h"
#include "runtime/security/lsm.h"
#include "sys/error.h"

namespace husk::runtime {
namespace {

// linux.intelRdt needs resctrl, which this runtime does not drive; empty is fine.
void check_intel_rdt(const oci::Linux& lx) {
    if (!lx.intel_rdt) return;
    bool resctrl = ::access("/sys/fs/resctrl/schemata", F_OK) == 0;
    throw Error(resctrl ? "linux.intelRdt: Intel RDT is not supported by husk-runtime"
                        : "linux.intelRdt: Intel RDT (resctrl) is not available on this host");
}

void check_net_devices(const oci::Linux& lx, unsigned long all_ns) {
    if (!lx.net_devices.empty() && !(all_ns & CLONE_NEWNET))
        throw Error(
            "linux.netDevices: moving interfaces needs a network namespace of the container's "
            "own (a linux.namespaces entry of type \"network\")");
}

}  // namespace

Plan build_plan(const oci::Spec& spec, const PlanInputs& in, unsigned long& clone_flags) {
    Plan p;
    clone_flags = 0;
    if (!spec.root) throw Error("root: a root filesystem is required");
    if (!spec.process) throw Error("process: a process is required to create a container");
    plan_root(*spec.root, in.bundle, p);
    p.no_pivot = in.no_pivot;
    p.preserve_fds = in.preserve_fds;

    static const oci::Linux kNoLinux;
    const oci::Linux& lx = spec.linux_ ? *spec.linux_ : kNoLinux;
    security::check_mount_label(lx);
    check_intel_rdt(lx);
    plan_namespaces(lx, in.cgroup_ns_after_join, p, clone_flags);
    unsigned long all_ns = container_namespaces(p, clone_flags);
    check_net_devices(lx, all_ns);
    if (!(all_ns & CLONE_NEWNS)) check_without_mount_ns(spec, p.rootfs);
    bool dev_bound = plan_mounts(spec, in.bundle, in.cgroup_dirs, in.host_cgroups,
                                 (clone_flags & CLONE_NEWNET) != 0, all_ns, p);
    plan_devices(spec, dev_bound, in.rootless, p);
    plan_identity(spec, all_ns, p);
    plan_process_attrs(*spec.process, lx.memory_policy ? &*lx.memory_policy : nullptr,
                       /*exec=*/false, p.attrs);
    plan_process_security(*spec.process, lx.seccomp ? &*lx.seccomp : nullptr, in.seccomp_cache_dir,
                          p);
    p.mount_console = true;
    return p;
}

}  // namespace husk::runtime
