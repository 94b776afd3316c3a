#include "runtime/state.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/json_write.h"
#include "sys/log.h"
#include "sys/proc.h"

namespace husk::runtime {

using nlohmann::json;

void validate_id(const std::string& id) {
    // Names starting with '.' are ours under --root (e.g. the seccomp cache).
    if (id.empty() || id[0] == '.' || id.size() > 1024)
        throw Error(fmt::format("invalid container id \"{}\"", id));
    for (char c : id)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
              c == '+'))
            throw Error(fmt::format(
                "invalid container id \"{}\": only letters, digits and _ - . + are allowed", id));
}

std::string now_rfc3339() {
    return log::now_rfc3339();
}

StateDir::StateDir(const std::string& root, const std::string& id) : root_(root), id_(id) {
    validate_id(id);
    dir_ = root + "/" + id;
}

void StateDir::create_new() {
    // The root is there but for the first container: made (with its parents) only then,
    // not probed by a mkdir per component each time.
    int r = ::mkdir(dir_.c_str(), 0700);
    if (r != 0 && errno == ENOENT) {
        sys::mkdir_all(root_, 0700);
        r = ::mkdir(dir_.c_str(), 0700);
    }
    if (r != 0) {
        if (errno == EEXIST) throw Error(fmt::format("container \"{}\" already exists", id_));
        throw_sys("mkdir", dir_);
    }
}

bool StateDir::exists() const {
    return sys::exists_follow(dir_ + "/state.json");
}

void StateDir::lock() {
    // A POSIX record lock belongs to this process: unlike flock, the container's init
    // (a fork of ours until it execs) does not inherit it and cannot keep it held.
    std::string path = dir_ + "/lock";
    lock_fd_.reset(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!lock_fd_) {
        if (errno == ENOENT)
            throw Error(fmt::format("container \"{}\" does not exist", id_), ENOENT);
        throw_sys("open", path);
    }
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    while (::fcntl(lock_fd_.get(), F_SETLKW, &fl) != 0)
        if (errno != EINTR) throw_sys("lock", path);
}

Record StateDir::load() const {
    return parse(read_text());
}

std::string StateDir::read_text() const {
    try {
        return sys::read_file(dir_ + "/state.json");
    } catch (const Error& e) {
        if (e.code() == ENOENT)
            throw Error(fmt::format("container \"{}\" does not exist", id_), ENOENT);
        throw;
    }
}

Record StateDir::parse(const std::string& text) const {
    try {
        auto j = json::parse(text);
        Record r;
        r.id = j.at("id").get<std::string>();
        r.bundle = j.at("bundle").get<std::string>();
        r.rootfs = j.value("rootfs", "");
        r.created = j.value("created", "");
        r.owner = j.value("owner", "");
        r.pid = j.at("pid").get<int>();
        r.start_time = j.at("start_time").get<uint64_t>();
        r.cgroup = j.value("cgroup", "");
        r.use_pid_ns = j.value("use_pid_ns", true);
        r.new_keyring = j.value("new_keyring", false);
        r.config = j.value("config", "");
        r.creating = j.value("creating", false);
        if (j.contains("annotations"))
            r.annotations = j["annotations"].get<std::map<std::string, std::string>>();
        return r;
    } catch (const json::exception& e) {
        throw Error(fmt::format("read state of container \"{}\": {}: {}", id_, dir_ + "/state.json",
                                e.what()));
    }
}

std::string StateDir::save(const Record& r) const {
    // By hand, keys in nlohmann's (sorted) order: create saves three times per container.
    std::string text;
    text.reserve(512 + r.cgroup.size() + r.config.size());
    sys::JsonObject o(text);
    o.key("annotations");
    sys::JsonObject a(o.raw());
    for (const auto& [k, v] : r.annotations) a.key(k).string(v, "annotation");
    a.close();
    o.key("bundle").string(r.bundle, "bundle");
    // The cgroup record, JSON in a JSON string (mostly quotes to escape), changes not
    // between create's saves: escaped once.
    if (r.cgroup != cgroup_escaped_of_ || cgroup_escaped_.empty()) {
        cgroup_escaped_.clear();
        sys::append_json_string(cgroup_escaped_, r.cgroup, "cgroup");
        cgroup_escaped_of_ = r.cgroup;
    }
    o.key("cgroup").raw() += cgroup_escaped_;
    o.key("config").string(r.config, "config");
    o.key("created").string(r.created, "created");
    o.key("creating").boolean(r.creating);
    o.key("id").string(r.id, "id");
    o.key("new_keyring").boolean(r.new_keyring);
    o.key("owner").string(r.owner, "owner");
    o.key("pid").integer(r.pid);
    o.key("rootfs").string(r.rootfs, "rootfs");
    o.key("start_time").unsigned_integer(r.start_time);
    o.key("use_pid_ns").boolean(r.use_pid_ns);
    o.close();
    sys::replace_file_unflushed(dir_ + "/state.json", text, 0600);
    return text;
}

void StateDir::remove() {
    // What create makes in it (state.json first: from then on the container is gone for
    // every reader; exec.fifo until start; the lock), then the directory: 4 calls, where
    // a walk of it (open, mount check, list, a 32 KiB buffer) took 18. Anything else in
    // it, or a failure, is left to that walk, which says what is wrong.
    for (const char* name : {"/state.json", "/exec.fifo", "/lock"})
        if (::unlink((dir_ + name).c_str()) != 0 && errno != ENOENT) return sys::remove_all(dir_);
    if (::rmdir(dir_.c_str()) != 0 && errno != ENOENT) sys::remove_all(dir_);
}

std::string status_of(const StateDir& dir, const Record& r, bool frozen) {
    if (r.pid <= 0 || !sys::process_alive(r.pid, r.start_time)) return "stopped";
    if (r.creating) return "creating";
    if (sys::exists_follow(dir.fifo_path())) return "created";
    if (frozen) return "paused";
    return "running";
}

std::vector<std::string> list_ids(const std::string& root) {
    std::vector<std::string> out;
    for (auto& n : sys::list_dir(root))
        if (sys::exists_follow(fmt::format("{}/{}/state.json", root, n))) out.push_back(n);
    return out;
}

}  // namespace husk::runtime
