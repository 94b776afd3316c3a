// Namespaces: new or joined (linux.namespaces), the user namespace's id maps, and the
// init's setns calls. The time namespace's offsets are written around the clone
// (timens.h), a joined PID or user namespace is entered around it (init_clone.h).
#include "runtime/namespaces.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "runtime/init.h"
#include "runtime/timens.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/loopback.h"
#include "sys/spawn.h"
#include "sys/user_dirs.h"

namespace husk::runtime {
namespace {

struct NsName {
    const char* name;
    int flag;
};
constexpr NsName kNamespaces[] = {
    {"pid", CLONE_NEWPID},       {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS},
    {"ipc", CLONE_NEWIPC},       {"uts", CLONE_NEWUTS},     {"user", CLONE_NEWUSER},
    {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

// Unprivileged, the kernel takes only a map of our own id (one id): anything wider goes
// through the setuid helpers, which check /etc/subuid and /etc/subgid.
bool self_map_only(const std::vector<oci::IdMapping>& m, uint32_t id) {
    return m.size() == 1 && m[0].host_id == id && m[0].size == 1;
}

// newuidmap PID ID HOSTID SIZE... (or newgidmap): the maps of `pid` written by the setuid
// helper of shadow's uidmap package; throws naming the helper, its complaint and the file
// to fix.
void write_map_by_helper(const char* helper, const char* subid_file, const char* field, pid_t pid,
                         const std::vector<oci::IdMapping>& m) {
    std::string path = fmt::format("/usr/bin/{}", helper);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw Error(fmt::format(
            "{}: mapping more than our own id needs {} (install the uidmap package)", field, path));
    // Debian installs it setuid root; some distributions give it file capabilities instead.
    if ((st.st_mode & S_ISUID) == 0 && st.st_uid == 0 &&
        ::getxattr(path.c_str(), "security.capability", nullptr, 0) < 0)
        throw Error(fmt::format(
            "{}: {} is neither setuid root nor has file capabilities (reinstall the uidmap "
            "package)",
            field, path));
    std::vector<std::string> args = {path, std::to_string(pid)};
    for (const auto& r : m) {
        args.push_back(std::to_string(r.container_id));
        args.push_back(std::to_string(r.host_id));
        args.push_back(std::to_string(r.size));
    }
    auto argv = sys::c_strings(args);
    std::vector<std::string> env;
    auto envp = sys::c_strings(env);
    sys::UniqueFd err(::memfd_create("idmap-stderr", MFD_CLOEXEC));
    sys::SpawnResult r = sys::spawn_and_wait(path.c_str(), argv.data(), envp.data(), 10, nullptr, 0,
                                             -1, err ? err.get() : -1);
    if (r.ok()) return;
    std::string out;
    if (err) {
        char buf[512];
        ssize_t n = ::pread(err.get(), buf, sizeof buf, 0);
        if (n > 0) out.assign(buf, static_cast<size_t>(n));
        if (auto nl = out.find('\n'); nl != std::string::npos) out.resize(nl);
    }
    throw Error(fmt::format("{}: {} {}: {}{}{} (check the ranges of user {} in {})", field, helper,
                            pid, sys::describe_spawn_result(r), out.empty() ? "" : ": ", out,
                            sys::user_name(), subid_file));
}

}  // namespace

int namespace_flag(const std::string& type) {
    for (const auto& n : kNamespaces)
        if (type == n.name) return n.flag;
    return 0;
}

void plan_namespaces(const oci::Linux& lx, bool cgroup_ns_after_join, Plan& p,
                     unsigned long& flags) {
    std::vector<PlannedNamespaceJoin> mount_join;
    for (size_t i = 0; i < lx.namespaces.size(); ++i) {
        const auto& ns = lx.namespaces[i];
        int flag = namespace_flag(ns.type);
        if (ns.path.empty()) {
            flags |= static_cast<unsigned long>(flag);
            continue;
        }
        // A PID namespace is joined by the parent around the clone, a user namespace by a
        // helper that clones the init from inside it (init_clone): not both at once, the
        // helper would be born in the joined PID namespace and report the init's pid there.
        if (flag == CLONE_NEWPID &&
            std::any_of(lx.namespaces.begin(), lx.namespaces.end(), [](const oci::Namespace& n) {
                return n.type == "user" && !n.path.empty();
            }))
            throw Error(fmt::format(
                "linux.namespaces[{}]: joining an existing pid namespace together with an "
                "existing user namespace is not supported",
                i));
        PlannedNamespaceJoin j;
        sys::UniqueFd fd(::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd)
            with_context(fmt::format("linux.namespaces[{}]", i),
                         [&] { throw_sys("open namespace", ns.path); });
        j.fd = p.own(std::move(fd));
        if (flag == CLONE_NEWUSER) {
            p.user_join_fd = j.fd;
            p.user_join_path = ns.path;
            continue;
        }
        if (flag == CLONE_NEWPID) {
            p.pid_join_fd = j.fd;
            p.pid_join_path = ns.path;
            continue;
        }
        j.nstype = flag;
        j.path = ns.path;
        (flag == CLONE_NEWNS ? mount_join : p.joins).push_back(std::move(j));
    }
    for (auto& j : mount_join) p.joins.push_back(std::move(j));
    if ((flags & CLONE_NEWCGROUP) && cgroup_ns_after_join) {
        flags &= ~static_cast<unsigned long>(CLONE_NEWCGROUP);
        p.unshare_cgroup_after_join = true;
    }
    p.new_user_ns = flags & CLONE_NEWUSER;
    p.dumpable_until_go = p.new_user_ns && ::geteuid() != 0;
    // unprivileged in a user namespace we make or join (a user's networks' holder's:
    // engine/rootless_netns.h): the new network namespace is the container's root's
    const bool unprivileged_userns = ::geteuid() != 0 && p.in_user_ns();
    p.loopback_up = unprivileged_userns && (flags & CLONE_NEWNET) != 0;
    p.dumpable_until_exec = p.loopback_up;
    // write_id_maps denies setgroups(2) when it writes our own gid itself; a joined user
    // namespace whose maps (as the spec gives them) are our own gid alone had it denied too
    if (unprivileged_userns && self_map_only(lx.gid_mappings, ::getegid())) p.set_groups = false;
    if (flags & CLONE_NEWTIME) {  // offsets go in before anyone enters: see timens.h
        flags &= ~static_cast<unsigned long>(CLONE_NEWTIME);
        p.new_time_ns = true;
        p.time_ns_in_init = unprivileged_userns;
    }
    p.new_mount_ns = (flags & CLONE_NEWNS) || !mount_join.empty();
    if (!lx.time_offsets.empty()) {
        if (!p.new_time_ns)
            throw Error(
                "linux.timeOffsets: needs a new time namespace (a linux.namespaces entry of "
                "type \"time\" without a path)");
        p.time_offsets = format_time_offsets(lx.time_offsets);
    }
}

unsigned long container_namespaces(const Plan& p, unsigned long clone_flags) {
    unsigned long all = clone_flags;
    for (const auto& j : p.joins) all |= static_cast<unsigned long>(j.nstype);
    if (p.unshare_cgroup_after_join) all |= CLONE_NEWCGROUP;
    return all;
}

std::string format_id_map(const std::vector<oci::IdMapping>& m, const char* field) {
    if (m.empty())
        throw Error(fmt::format("{}: a user namespace needs at least one mapping", field));
    if (m.size() > 340)
        throw Error(fmt::format("{}: {} ranges, the kernel allows 340", field, m.size()));
    std::string out;
    for (const auto& r : m) out += fmt::format("{} {} {}\n", r.container_id, r.host_id, r.size);
    return out;
}

void write_id_maps(pid_t pid, const std::vector<oci::IdMapping>& uids,
                   const std::vector<oci::IdMapping>& gids) {
    std::string base = fmt::format("/proc/{}/", pid);
    std::string u = format_id_map(uids, "linux.uidMappings");
    std::string g = format_id_map(gids, "linux.gidMappings");
    bool unprivileged = ::geteuid() != 0;
    if (unprivileged && !self_map_only(uids, ::geteuid()))
        write_map_by_helper("newuidmap", "/etc/subuid", "linux.uidMappings", pid, uids);
    else
        with_context("linux.uidMappings", [&] { sys::write_file(base + "uid_map", u); });
    if (unprivileged && !self_map_only(gids, ::getegid())) {
        write_map_by_helper("newgidmap", "/etc/subgid", "linux.gidMappings", pid, gids);
        return;
    }
    // Unprivileged, the kernel takes our own gid only once setgroups(2) is denied in the
    // namespace (user_namespaces(7)); the container then keeps the groups it has.
    if (unprivileged)
        with_context("linux.gidMappings", [&] { sys::write_file(base + "setgroups", "deny"); });
    with_context("linux.gidMappings", [&] { sys::write_file(base + "gid_map", g); });
}

// --- child side: runs between clone and execve ---

void become_user_ns_root(const Plan& p) noexcept {
    if (!p.in_user_ns()) return;
    // The parent wrote our id maps (or we were born in a joined namespace, whose maps
    // are set): become the namespace's root, as runc does.
    if (::setresgid(0, 0, 0) != 0) init_fail(p, "setresgid(0) in user namespace", "", errno);
    if (::setresuid(0, 0, 0) != 0) init_fail(p, "setresuid(0) in user namespace", "", errno);
}

void make_time_namespace(const Plan& p) noexcept {
    if (!p.time_ns_in_init) return;
    // /proc/self/timens_offsets of a process that is not dumpable belongs to the host's
    // root: an init in a joined user namespace (a user's network holder's) is not dumpable
    // from its helper on, so it is while it writes them (it is again before its execve for
    // its network: Plan::dumpable_until_exec)
    const bool undumpable = !p.dumpable_until_go;
    if (undumpable) ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    const char* step = "";
    int err = enter_new_time_namespace(p.time_offsets, &step);
    if (undumpable) ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (err != 0) init_fail(p, step, "", err);
}

void bring_loopback_up(const Plan& p) noexcept {
    if (!p.loopback_up) return;
    if (int err = sys::bring_up_loopback(); err != 0) init_fail(p, "bring up", "lo", err);
}

void join_namespaces(const Plan& p) noexcept {
    for (const auto& j : p.joins) {
        if (::setns(j.fd, j.nstype) != 0) init_fail(p, "join namespace", j.path.c_str(), errno);
        ::close(j.fd);
    }
    if (p.unshare_cgroup_after_join && ::unshare(CLONE_NEWCGROUP) != 0)
        init_fail(p, "unshare cgroup namespace", "", errno);
}

// --- end child side ---

}  // namespace husk::runtime
