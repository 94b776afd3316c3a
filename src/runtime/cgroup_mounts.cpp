#include "runtime/cgroup_mounts.h"

#include <sys/mount.h>

#include <string_view>

#include "sys/fileutil.h"

namespace husk::runtime {
namespace {

// The fields of `s` between `sep`s, into `out` (cleared first; empty fields kept).
void split_into(std::string_view s, char sep, std::vector<std::string_view>& out) {
    out.clear();
    for (size_t pos = 0;;) {
        size_t next = s.find(sep, pos);
        out.push_back(s.substr(pos, next == std::string_view::npos ? s.npos : next - pos));
        if (next == std::string_view::npos) return;
        pos = next + 1;
    }
}

bool is_controller_option(std::string_view o) {
    static constexpr std::string_view kNotControllers[] = {"rw",
                                                           "ro",
                                                           "xattr",
                                                           "noprefix",
                                                           "clone_children",
                                                           "cpuset_v2_mode",
                                                           "nsdelegate",
                                                           "memory_recursiveprot",
                                                           "favordynmods",
                                                           "memory_localevents"};
    for (auto n : kNotControllers)
        if (o == n) return false;
    return !o.starts_with("release_agent=");
}

}  // namespace

std::vector<HostHierarchy> parse_cgroup_hierarchies(const std::string& mountinfo,
                                                    const std::string& root) {
    std::vector<HostHierarchy> out;
    std::vector<std::string_view> f, opts;
    std::string_view text = mountinfo;
    for (size_t pos = 0; pos < text.size();) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        // id parent dev root mountpoint opts [optional...] - fstype source superopts
        split_into(line, ' ', f);
        size_t dash = 0;
        for (size_t i = 6; i < f.size(); ++i)
            if (f[i] == "-") {
                dash = i;
                break;
            }
        if (dash == 0 || f.size() < dash + 4) continue;
        const std::string_view mp = f[4];
        const std::string_view fstype = f[dash + 1];
        if (fstype != "cgroup" && fstype != "cgroup2") continue;
        if (mp.size() <= root.size() + 1 || !mp.starts_with(root) || mp[root.size()] != '/') {
            if (mp == root && fstype == "cgroup2") out.push_back({"", true, {}});
            continue;
        }
        HostHierarchy h;
        h.name = mp.substr(root.size() + 1);
        if (h.name.find('/') != std::string::npos) continue;
        h.v2 = fstype == "cgroup2";
        if (!h.v2) {
            split_into(f[dash + 3], ',', opts);
            for (auto o : opts)
                if (is_controller_option(o)) h.controllers.emplace_back(o);
        }
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

void append_cgroup_mounts(const PlannedMount& base, const std::vector<std::string>* own_dirs,
                          std::vector<PlannedMount>& out) {
    auto hier = parse_cgroup_hierarchies(sys::read_file("/proc/self/mountinfo"));
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
