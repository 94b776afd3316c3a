#include "runtime/cgroup/layout.h"

#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "runtime/cgroup/file.h"
#include "sys/error.h"

namespace husk::runtime::cgroup {

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    size_t pos = 0;
    for (;;) {
        size_t next = s.find(sep, pos);
        out.push_back(s.substr(pos, next == std::string_view::npos ? s.npos : next - pos));
        if (next == std::string_view::npos) break;
        pos = next + 1;
    }
    return out;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view s) {
    if (s.find('\\') == std::string_view::npos) return std::string(s);
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7') {
            out +=
                static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

bool is_v1_controller(std::string_view opt) {
    static constexpr std::string_view known[] = {
        "cpuset",     "cpu",      "cpuacct", "blkio", "memory", "devices", "freezer", "net_cls",
        "perf_event", "net_prio", "hugetlb", "pids",  "rdma",   "misc",    "debug"};
    if (opt.substr(0, 5) == "name=") return true;
    return std::find(std::begin(known), std::end(known), opt) != std::end(known);
}

bool under_sys_fs_cgroup(const std::string& mountpoint) {
    return mountpoint.starts_with("/sys/fs/cgroup/");
}

int v2_preference(const std::string& mountpoint) {
    if (mountpoint == "/sys/fs/cgroup") return 0;
    if (mountpoint == "/sys/fs/cgroup/unified") return 1;
    return 2;
}

}  // namespace

std::vector<CgroupMount> parse_mountinfo(std::string_view text) {
    std::vector<CgroupMount> out;
    std::optional<CgroupMount> v2;
    for (auto line : split(text, '\n')) {
        if (line.empty()) continue;
        size_t dash = line.find(" - ");
        if (dash == std::string_view::npos) continue;
        // Most mounts are not cgroups: look at the type before splitting the line.
        const std::string_view after = line.substr(dash + 3);
        const std::string_view fstype = after.substr(0, after.find(' '));
        if (fstype != "cgroup" && fstype != "cgroup2") continue;
        auto left = split(line.substr(0, dash), ' ');
        auto right = split(after, ' ');
        if (left.size() < 5 || right.size() < 3) continue;
        CgroupMount m;
        m.root = unescape(left[3]);
        m.mountpoint = unescape(left[4]);
        if (fstype == "cgroup2") {
            m.v2 = true;
            if (!v2 || v2_preference(m.mountpoint) < v2_preference(v2->mountpoint)) v2 = m;
            continue;
        }
        for (auto opt : split(right[2], ','))
            if (is_v1_controller(opt)) m.controllers.emplace_back(opt);
        if (m.controllers.empty()) continue;
        // the same hierarchy mounted again (a bind mount elsewhere, earlier or later):
        // the one under /sys/fs/cgroup, as for cgroup2
        auto same = std::find_if(out.begin(), out.end(), [&](const CgroupMount& o) {
            return o.controllers == m.controllers;
        });
        if (same == out.end())
            out.push_back(std::move(m));
        else if (!under_sys_fs_cgroup(same->mountpoint) && under_sys_fs_cgroup(m.mountpoint))
            *same = std::move(m);
    }
    if (v2) out.push_back(std::move(*v2));
    return out;
}

std::map<std::string, std::string> parse_proc_cgroup(std::string_view text) {
    std::map<std::string, std::string> out;
    for (auto line : split(text, '\n')) {
        size_t a = line.find(':');
        if (a == std::string_view::npos) continue;
        size_t b = line.find(':', a + 1);
        if (b == std::string_view::npos) continue;
        auto ctrls = line.substr(a + 1, b - a - 1);
        std::string path(line.substr(b + 1));
        if (ctrls.empty()) {
            out[""] = path;
            continue;
        }
        for (auto c : split(ctrls, ',')) out[std::string(c)] = path;
    }
    return out;
}

std::string clean_path(std::string_view path) {
    std::vector<std::string_view> parts;
    for (auto p : split(path, '/')) {
        if (p.empty() || p == ".") continue;
        if (p == "..") {
            if (!parts.empty()) parts.pop_back();
            continue;
        }
        parts.push_back(p);
    }
    std::string out;
    for (auto p : parts) {
        out += '/';
        out += p;
    }
    return out.empty() ? "/" : out;
}

CgroupPath parse_cgroups_path(const std::string& cgroups_path, const std::string& id) {
    // Without a path, the container's own cgroup directly below the root, named by its id,
    // as runc names it: no parent to create first or to leave behind empty.
    if (cgroups_path.empty()) return {clean_path("/" + id), false};
    if (cgroups_path.find('/') == std::string::npos &&
        std::count(cgroups_path.begin(), cgroups_path.end(), ':') == 2) {
        throw Error(fmt::format(
            "linux.cgroupsPath \"{}\": the \"slice:prefix:name\" form is for the systemd cgroup "
            "driver, which husk-runtime does not have; use a path such as \"/husk/{}\"",
            cgroups_path, id));
    }
    CgroupPath p;
    p.relative = cgroups_path[0] != '/';
    p.path = clean_path(cgroups_path);
    if (p.path == "/")
        throw Error(fmt::format(
            "linux.cgroupsPath \"{}\": names the root cgroup; a container needs its own cgroup",
            cgroups_path));
    return p;
}

const CgroupMount* Layout::v1_mount(std::string_view controller) const {
    for (const auto& m : v1)
        if (std::find(m.controllers.begin(), m.controllers.end(), controller) !=
            m.controllers.end())
            return &m;
    return nullptr;
}

bool Layout::v2_has(std::string_view controller) const {
    return std::find(v2_controllers.begin(), v2_controllers.end(), controller) !=
           v2_controllers.end();
}

std::vector<CgroupMount> Layout::mounts() const {
    std::vector<CgroupMount> out = v1;
    if (v2) out.push_back(*v2);
    return out;
}

std::string Layout::dir_for(const CgroupMount& m, const CgroupPath& p) const {
    std::string rel = p.path;
    if (p.relative) {
        // Under this process's own cgroup in that hierarchy. /proc/self/cgroup shows
        // paths from the hierarchy root; the mount may show only a sub-tree of it.
        std::string_view base = "/";
        if (auto it = own.find(m.v2 ? std::string() : m.controllers.front()); it != own.end())
            base = it->second;
        if (m.root != "/") {
            const bool inside = base.size() > m.root.size() &&
                                base.compare(0, m.root.size(), m.root) == 0 &&
                                base[m.root.size()] == '/';
            base = inside ? base.substr(m.root.size()) : std::string_view("/");
        }
        rel = clean_path(fmt::format("{}/{}", base, p.path));
    }
    return rel == "/" ? m.mountpoint : m.mountpoint + rel;
}

namespace {

bool delegated(const std::string& dir) {
    for (const char* f : {"", "/cgroup.procs", "/cgroup.subtree_control"})
        if (::access((dir + f).c_str(), W_OK) != 0) return false;
    return true;
}

}  // namespace

std::string delegated_root(const Layout& layout) {
    if (!layout.v2) return {};
    std::string d = layout.dir_for(*layout.v2, CgroupPath{"/", true});
    if (!delegated(d)) return {};
    while (d.size() > layout.v2->mountpoint.size() && delegated(parent_of(d))) d = parent_of(d);
    return d;
}

bool memory_swap_limit_supported(const Layout& layout) {
    const CgroupMount* v1 = layout.v1_mount("memory");
    if (!v1) return true;
    return ::access((v1->mountpoint + "/memory.memsw.limit_in_bytes").c_str(), F_OK) == 0;
}

Layout make_layout(std::string_view mountinfo, std::string_view proc_cgroup,
                   std::string_view v2_root_controllers) {
    Layout l;
    for (auto& m : parse_mountinfo(mountinfo)) {
        if (m.v2)
            l.v2 = std::move(m);
        else
            l.v1.push_back(std::move(m));
    }
    while (!v2_root_controllers.empty() && v2_root_controllers.back() == '\n')
        v2_root_controllers.remove_suffix(1);
    for (auto c : split(v2_root_controllers, ' '))
        if (!c.empty()) l.v2_controllers.emplace_back(c);
    l.own = parse_proc_cgroup(proc_cgroup);
    return l;
}

Layout detect_layout() {
    std::string mountinfo, self, controllers;
    if (!try_read_file("/proc/self/mountinfo", mountinfo))
        throw_sys("read", "/proc/self/mountinfo");
    if (!try_read_file("/proc/self/cgroup", self)) throw_sys("read", "/proc/self/cgroup");
    Layout l = make_layout(mountinfo, self, "");
    if (l.v2) {
        try_read_file(l.v2->mountpoint + "/cgroup.controllers", controllers);
        for (auto c : split(controllers, ' '))
            if (!c.empty()) l.v2_controllers.emplace_back(c);
    }
    if (l.v1.empty() && !l.v2) throw Error("no cgroup hierarchy is mounted (/proc/self/mountinfo)");
    return l;
}

}  // namespace husk::runtime::cgroup
