#include "runtime/cgroup_mounts.h"

#include <sys/mount.h>

namespace husk::runtime {
std::vector<HostHierarchy> cgroup_hierarchies(const std::vector<cgroup::CgroupMount>& mounts,
                                              const std::string& root) {
    std::vector<HostHierarchy> out;
    for (const auto& m : mounts) {
        const std::string& mp = m.mountpoint;
        if (mp.size() <= root.size() + 1 || !mp.starts_with(root) || mp[root.size()] != '/') {
            if (mp == root && m.v2) out.push_back({"", true, {}});
            continue;
        }
        HostHierarchy h;
        h.name = mp.substr(root.size() + 1);
        if (h.name.find('/') != std::string::npos) continue;
        h.v2 = m.v2;
        h.controllers = m.controllers;
        out.push_back(std::move(h));
    }
    return out;
}

namespace {

// The directory of `own_dirs` under the hierarchy mounted at `mountpoint`, or "".
std::string own_dir_under(const std::vector<std::string>& own_dirs, const std::string& mountpoint) {
    for (const auto& d : own_dirs)
        if (d == mountpoint || d.rfind(mountpoint + "/", 0) == 0) return d;
    return {};
}

}  // namespace

void append_cgroup_mounts(const PlannedMount& base, const std::vector<cgroup::CgroupMount>& host,
                          const std::vector<std::string>* own_dirs,
                          std::vector<PlannedMount>& out) {
    auto hier = cgroup_hierarchies(host);
    PlannedMount m = base;
    m.kind = PlannedMount::Kind::filesystem;
    m.source = "cgroup";
    m.opts.params.clear();
    // Pure cgroup v2: one cgroup2 mount (the cgroup namespace gives the container its own view).
    if (hier.size() == 1 && hier[0].v2 && hier[0].name.empty()) {
        m.fstype = "cgroup2";
        if (own_dirs && !own_dirs->empty()) {
            m.kind = PlannedMount::Kind::bind;
            m.source = own_dirs->front();
            m.fstype.clear();
            m.opts.bind = true;
        }
        out.push_back(std::move(m));
        return;
    }
    PlannedMount tmpfs = base;
    tmpfs.kind = PlannedMount::Kind::filesystem;
    tmpfs.fstype = "tmpfs";
    tmpfs.source = "tmpfs";
    tmpfs.opts.params = {{"mode", "755"}};
    bool readonly = base.opts.attr_set & MOUNT_ATTR_RDONLY;
    tmpfs.opts.attr_set &= ~static_cast<uint64_t>(MOUNT_ATTR_RDONLY);
    out.push_back(tmpfs);
    for (const auto& h : hier) {
        if (h.name.empty()) continue;
        PlannedMount c = m;
        c.target = base.target + "/" + h.name;
        c.fstype = h.v2 ? "cgroup2" : "cgroup";
        if (own_dirs) {
            c.source = own_dir_under(*own_dirs, "/sys/fs/cgroup/" + h.name);
            if (c.source.empty()) continue;  // not in this hierarchy: show none of the host's
            c.kind = PlannedMount::Kind::bind;
            c.fstype.clear();
            c.opts.bind = true;
        }
        for (const auto& ctl : own_dirs ? std::vector<std::string>{} : h.controllers) {
            auto eq = ctl.find('=');
            if (eq == std::string::npos)
                c.opts.params.emplace_back(ctl, "");
            else
                c.opts.params.emplace_back(ctl.substr(0, eq), ctl.substr(eq + 1));
        }
        out.push_back(std::move(c));
        // "cpu,cpuacct" is also reachable as "cpu" and "cpuacct".
        if (h.controllers.size() > 1)
            for (const auto& ctl : h.controllers) {
                if (ctl == h.name || ctl.find('=') != std::string::npos) continue;
                PlannedMount l;
                l.kind = PlannedMount::Kind::symlink;
                l.source = h.name;
                l.target = base.target + "/" + ctl;
                out.push_back(std::move(l));
            }
    }
    if (readonly) {
        PlannedMount seal;
        seal.kind = PlannedMount::Kind::seal_readonly;
        seal.target = base.target;
        out.push_back(std::move(seal));
    }
}

}  // namespace husk::runtime
