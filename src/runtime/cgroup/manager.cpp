#include "runtime/cgroup/manager.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "runtime/cgroup/convert.h"
#include "runtime/cgroup/file.h"
#include "runtime/cgroup/resources.h"
#include "sys/error.h"
#include "sys/json_write.h"
#include "sys/log.h"
#include "sys/scope_guard.h"

namespace husk::runtime::cgroup {

namespace {

// A new v1 cpuset cgroup has no cpus and no mems: nothing could run in it.
// Copy them from the parent, top down, as runc does.
void init_cpuset(const std::string& mountpoint, const std::string& dir) {
    std::vector<std::string> chain;
    for (std::string d = dir; d.size() > mountpoint.size(); d = parent_of(d)) chain.push_back(d);
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
            if (!read_file(*it, f).empty()) continue;
            write_file(*it, f, read_file(parent_of(*it), f));
        }
    }
}

// On a hybrid host, is the cgroup2 hierarchy worth joining? Joining costs about as
// much as two v1 hierarchies (cgroup.procs writes wait for RCU), and runc does not.
// Needed for: a controller only cgroup2 has, linux.resources.unified, device rules
// without a v1 devices controller, or pause/kill without a v1 freezer.
bool needs_v2(const Layout& layout, const oci::Resources* res) {
    if (!layout.v1_mount("freezer")) return true;
    if (res == nullptr) return false;
    if (!res->unified.empty()) return true;
    if (!res->devices.empty() && !layout.v1_mount("devices")) return true;
    for (const char* c : {"memory", "pids", "cpu", "cpuset", "io", "hugetlb", "rdma", "misc"}) {
        const char* v1_name = std::string_view(c) == "io" ? "blkio" : c;
        if (needs_controller(*res, c) && !layout.v1_mount(v1_name) && layout.v2_has(c)) return true;
    }
    return false;
}

// Whether we may make `dir`: the nearest existing ancestor is writable by us.
bool can_make(const std::string& dir) {
    for (std::string d = dir; !d.empty(); d = parent_of(d))
        if (::access(d.c_str(), F_OK) == 0) return ::access(d.c_str(), W_OK) == 0;
    return false;
}

// The controllers a new cgroup at `dir` can have: those of its nearest existing parent
// (a delegated cgroup gives its children what its own parent enabled for it).
std::vector<std::string> available_below(const std::string& mountpoint, const std::string& dir) {
    std::string text;
    for (std::string d = parent_of(dir); d.size() >= mountpoint.size(); d = parent_of(d))
        if (try_read_file(d + "/cgroup.controllers", text)) return split_words(text);
    return {};
}

// Rootless: a relative path is taken from our own cgroup (runc's rule), but not from the
// `leaf` our set-up moved a delegated cgroup's processes into (enable_v2's vacate): from the
// cgroup they were in before, so the next container sits beside the first, not below its leaf.
std::string rootless_v2_dir(const Layout& layout, const CgroupPath& path) {
    const std::string own = layout.dir_for(*layout.v2, CgroupPath{"/", true});
    const std::string root = delegated_root(layout);
    if (!path.relative || root.empty() || own.size() <= root.size() ||
        own.substr(own.rfind('/') + 1) != kLeaf)
        return layout.dir_for(*layout.v2, path);
    return path.path == "/" ? parent_of(own) : parent_of(own) + path.path;
}

// Rootless: keep what we may make, refuse a limit nothing kept can hold. An absolute
// cgroups path we may not make goes below the delegated subtree we run in, if any (the
// engine's "/husk/<id>" under systemd's user@.service). Returns the controllers the
// cgroup2 directory kept can have.
std::vector<std::string> keep_writable(std::vector<HierarchyDir>& v1,
                                       std::optional<HierarchyDir>& v2, const Layout& layout,
                                       const CgroupPath& path, const oci::Resources* res) {
    std::erase_if(v1, [](const HierarchyDir& h) { return !can_make(h.dir); });
    if (v2 && !can_make(v2->dir)) {
        v2.reset();
        if (std::string root = delegated_root(layout); !root.empty() && !path.relative)
            v2 = HierarchyDir{{}, root + path.path, layout.v2->mountpoint};
    }
    std::vector<std::string> v2_available;
    if (v2) v2_available = available_below(v2->mountpoint, v2->dir);
    if (res == nullptr) return v2_available;
    for (const char* c : {"memory", "pids", "cpu", "cpuset", "io", "hugetlb", "rdma", "misc"}) {
        if (!needs_controller(*res, c)) continue;
        const char* v1_name = std::string_view(c) == "io" ? "blkio" : c;
        bool held = std::any_of(v1.begin(), v1.end(),
                                [&](const HierarchyDir& h) { return has(h.controllers, v1_name); });
        if (held || has(v2_available, c)) continue;
        if (v2)
            throw Error(fmt::format(
                "linux.resources: rootless (uid {}): the {} controller is not delegated to "
                "\"{}\" (not in its parent's cgroup.controllers; the delegating parent "
                "enables it in its cgroup.subtree_control); run without the limit",
                ::geteuid(), c, v2->dir));
        throw Error(fmt::format(
            "linux.resources: rootless (uid {}): no cgroup holding the {} controller is "
            "writable by this user (the host's cgroups are not delegated to it: a cgroup v2 "
            "subtree delegated by systemd's user@.service is); run without the limit",
            ::geteuid(), c));
    }
    return v2_available;
}

}  // namespace

Manager::Manager(Private, std::vector<HierarchyDir> v1, std::optional<HierarchyDir> v2)
    : v1_(std::move(v1)), v2_(std::move(v2)) {}

std::unique_ptr<Manager> Manager::create(const std::string& cgroups_path, const std::string& id,
                                         const oci::Resources* res) {
    auto mgr = plan(cgroups_path, id, res);
    mgr->make(res);
    return mgr;
}

std::unique_ptr<Manager> Manager::plan(const std::string& cgroups_path, const std::string& id,
                                       const oci::Resources* res, bool rootless) {
    const CgroupPath path = parse_cgroups_path(cgroups_path, id);
    if (res != nullptr) validate(*res);  // before anything exists
    const Layout layout = detect_layout();

    std::vector<HierarchyDir> v1;
    for (const auto& m : layout.v1)
        v1.push_back({m.controllers, layout.dir_for(m, path), m.mountpoint});
    std::optional<HierarchyDir> v2;
    const bool pure_v2 = std::all_of(layout.v1.begin(), layout.v1.end(), [](const CgroupMount& m) {
        return m.controllers.size() == 1 && m.controllers[0].rfind("name=", 0) == 0;
    });
    if (layout.v2 && (pure_v2 || needs_v2(layout, res)))
        v2 = HierarchyDir{
            {},
            rootless ? rootless_v2_dir(layout, path) : layout.dir_for(*layout.v2, path),
            layout.v2->mountpoint};
    std::vector<std::string> v2_controllers = layout.v2_controllers;
    if (rootless) v2_controllers = keep_writable(v1, v2, layout, path, res);
    auto mgr = std::make_unique<Manager>(Private{}, std::move(v1), std::move(v2));
    mgr->pure_v2_ = pure_v2;
    mgr->rootless_ = rootless;
    mgr->v2_controllers_ = std::move(v2_controllers);
    mgr->host_mounts_ = layout.mounts();
    return mgr;
}

void Manager::make(const oci::Resources* res) {
    // The directories made here, removed in reverse on failure.
    std::vector<std::string> created;
    sys::ScopeGuard rollback([&]() noexcept {
        for (auto it = created.rbegin(); it != created.rend(); ++it) ::rmdir(it->c_str());
    });
    std::vector<std::string> existing;  // leaf cgroups that were already there
    for (const auto& d : dirs()) {
        auto made = make_dirs(d);
        if (made.empty()) existing.push_back(d);
        created.insert(created.end(), made.begin(), made.end());
    }
    // A cgroup left by a crashed runtime is reused when empty; one with live
    // processes belongs to someone else.
    for (const auto& d : existing) {
        auto procs = read_procs(d, true);
        if (!procs.empty())
            throw Error(fmt::format("cgroup \"{}\" is in use (pid {} is in it)", d, procs.front()));
    }
    for (const auto& h : v1_) {
        if (has(h.controllers, "cpuset")) init_cpuset(h.mountpoint, h.dir);
        if (has(h.controllers, "freezer") && has(existing, h.dir) &&
            read_file(h.dir, "freezer.state") != "THAWED")
            write_file(h.dir, "freezer.state", "THAWED");
    }
    if (v2_) {
        if (has(existing, v2_->dir) && file_exists(v2_->dir, "cgroup.freeze"))
            write_file(v2_->dir, "cgroup.freeze", "0");
        // Pure v2: every controller the host offers, as runc does. Hybrid: apply()
        // enables only those the resources need (cgroup2 is shared with every other
        // runtime of the host).
        if (pure_v2_) enable_v2(v2_->mountpoint, v2_->dir, v2_controllers_, rootless_);
    }
    if (res != nullptr) apply(*res, true);
    open_v2_fd();
    rollback.dismiss();
}

void Manager::open_v2_fd() {
    if (!v2_ || !v1_.empty()) return;
    v2_fd_.reset(::open(v2_->dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!v2_fd_) throw_sys("open", v2_->dir);
}

std::unique_ptr<Manager> Manager::load(const std::string& saved) {
    return with_context("load cgroup state", [&] {
        auto j = nlohmann::json::parse(saved);
        std::vector<HierarchyDir> v1;
        if (j.contains("v1")) {
            for (const auto& h : j.at("v1")) {
                HierarchyDir d;
                for (const auto& c : h.at("controllers"))
                    d.controllers.push_back(c.get<std::string>());
                d.dir = h.at("dir").get<std::string>();
                d.mountpoint = h.at("mountpoint").get<std::string>();
                v1.push_back(std::move(d));
            }
        }
        std::optional<HierarchyDir> v2;
        if (j.contains("v2")) {
            const auto& h = j.at("v2");
            v2 = HierarchyDir{
                {}, h.at("dir").get<std::string>(), h.at("mountpoint").get<std::string>()};
        }
        auto mgr = std::make_unique<Manager>(Private{}, std::move(v1), std::move(v2));
        // The cgroup may be gone already (delete after a crash): no fd then.
        if (mgr->v2_ && mgr->v1_.empty())
            mgr->v2_fd_.reset(::open(mgr->v2_->dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        return mgr;
    });
}

std::string Manager::save() const {
    // By hand (sys/json_write.h), as nlohmann's dump() orders and spells it: load() reads it.
    std::string out;
    out.reserve(64 + 160 * v1_.size());
    sys::JsonObject j(out);
    auto hierarchy = [](sys::JsonObject& e, const HierarchyDir& h) {
        e.key("dir").string(h.dir, "cgroup directory");
        e.key("mountpoint").string(h.mountpoint, "cgroup mount point");
        e.close();
    };
    if (!v1_.empty()) {
        j.key("v1").raw() += '[';
        for (size_t i = 0; i < v1_.size(); ++i) {
            const auto& h = v1_[i];
            if (i != 0) out += ',';
            sys::JsonObject e(out);
            e.key("controllers").raw() += '[';
            for (size_t c = 0; c < h.controllers.size(); ++c) {
                if (c != 0) out += ',';
                sys::append_json_string(out, h.controllers[c], "cgroup controller");
            }
            out += ']';
            hierarchy(e, h);
        }
        out += ']';
    }
    if (v2_) {
        j.key("v2");
        sys::JsonObject e(out);
        hierarchy(e, *v2_);
    }
    j.close();
    return out;
}

int Manager::clone_into_fd() const {
    return v1_.empty() ? v2_fd_.get() : -1;
}

void Manager::add_pid(pid_t pid) {
    const std::string s = std::to_string(pid);
    for (const auto& h : v1_) write_file(h.dir, "cgroup.procs", s);
    if (v2_) write_file(v2_->dir, "cgroup.procs", s);
}

std::vector<pid_t> Manager::pids() const {
    // cgroup2 always holds every process of the container; else the freezer
    // hierarchy (what kill_all freezes), else any.
    if (v2_) return read_procs(v2_->dir, true);
    if (const auto* f = freezer_v1()) return read_procs(*f, true);
    if (!v1_.empty()) return read_procs(v1_.front().dir, true);
    return {};
}

const std::string* Manager::freezer_v1() const {
    for (const auto& h : v1_)
        if (has(h.controllers, "freezer")) return &h.dir;
    return nullptr;
}

bool Manager::wait_frozen_v2(bool want) const {
    const std::string events = v2_->dir + "/cgroup.events";
    sys::UniqueFd fd(::open(events.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_sys("open", events);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (;;) {
        char buf[512];
        ssize_t n = ::pread(fd.get(), buf, sizeof buf - 1, 0);
        if (n < 0) throw_sys("read", events);
        if (flat_key(std::string_view(buf, static_cast<size_t>(n)), "frozen") == (want ? 1 : 0))
            return true;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        // cgroup.events signals a change with POLLPRI.
        struct pollfd p {
            fd.get(), POLLPRI, 0
        };
        ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 100)));
    }
}

void Manager::freeze() {
    if (const auto* f = freezer_v1()) {
        // FREEZING can last while a task sleeps uninterruptibly; write FROZEN again now and then.
        auto delay = std::chrono::microseconds(100);
        for (int attempt = 0; attempt < 400; ++attempt) {
            if (attempt % 20 == 0) write_file(*f, "freezer.state", "FROZEN");
            if (read_file(*f, "freezer.state") == "FROZEN") return;
            std::this_thread::sleep_for(delay);
            if (delay < std::chrono::milliseconds(10)) delay *= 2;
        }
        write_file(*f, "freezer.state", "THAWED");
        throw Error(fmt::format("freeze \"{}/freezer.state\": still FREEZING after 4s", *f));
    }
    if (!v2_) throw Error("freeze: the container has no freezer cgroup");
    write_file(v2_->dir, "cgroup.freeze", "1");
    if (!wait_frozen_v2(true)) {
        write_file(v2_->dir, "cgroup.freeze", "0");
        throw Error(fmt::format("freeze \"{}/cgroup.freeze\": not frozen after 5s", v2_->dir));
    }
}

void Manager::thaw() {
    if (const auto* f = freezer_v1()) {
        write_file(*f, "freezer.state", "THAWED");
        return;
    }
    if (!v2_) throw Error("thaw: the container has no freezer cgroup");
    write_file(v2_->dir, "cgroup.freeze", "0");
}

bool Manager::frozen() const {
    std::string s;
    if (const auto* f = freezer_v1()) {
        return try_read_file(*f + "/freezer.state", s) && s == "FROZEN";
    }
    return v2_ && try_read_file(v2_->dir + "/cgroup.freeze", s) && s == "1";
}

void Manager::kill_all(int sig) {
    if (sig == SIGKILL && v2_ && file_exists(v2_->dir, "cgroup.kill")) {
        write_file(v2_->dir, "cgroup.kill", "1");
        // A v1-frozen task dies only once thawed; a v2-frozen one dies, but the cgroup
        // would stay frozen: thaw both.
        if (frozen()) thaw();
        return;
    }
    const bool can_freeze =
        freezer_v1() != nullptr || (v2_ && file_exists(v2_->dir, "cgroup.freeze"));
    const bool was_frozen = can_freeze && frozen();
    bool froze = false;
    if (can_freeze && !was_frozen) {
        try {
            freeze();
            froze = true;
        } catch (const std::exception& e) {
            log::warn("kill: signalling without freezing first: {}", e.what());
        }
    }
    for (pid_t pid : pids())
        if (::kill(pid, sig) < 0 && errno != ESRCH)
            throw_sys(fmt::format("kill {} of", sig), std::to_string(pid));
    if (froze || (was_frozen && sig == SIGKILL)) thaw();
}

void Manager::destroy() {
    std::vector<std::string> errors;  // every cgroup left, not only the first
    for (const auto& d : dirs()) {
        try {
            remove_cgroup(d);
        } catch (const std::exception& e) {
            errors.emplace_back(e.what());
        }
    }
    v2_fd_.reset();
    if (!errors.empty()) throw Error(fmt::format("{}", fmt::join(errors, "; ")), EBUSY);
}

std::string Manager::dir_of(std::string_view controller) const {
    for (const auto& h : v1_)
        if (has(h.controllers, controller)) return h.dir;
    if (!v2_) return {};
    if (controller.empty()) return v2_->dir;
    std::string s;
    if (try_read_file(v2_->dir + "/cgroup.controllers", s) && has(split_words(s), controller))
        return v2_->dir;
    return {};
}

bool Manager::is_v2(std::string_view controller) const {
    return v2_ && !controller.empty() && dir_of(controller) == v2_->dir;
}

std::vector<std::string> Manager::dirs() const {
    std::vector<std::string> out;
    for (const auto& h : v1_) out.push_back(h.dir);
    if (v2_) out.push_back(v2_->dir);
    return out;
}

}  // namespace husk::runtime::cgroup
