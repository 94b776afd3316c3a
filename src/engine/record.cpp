#include "engine/record.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <iterator>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sys/error.h"
#include "sys/fileutil.h"

namespace husk::engine {

using nlohmann::json;

namespace {

json maps_json(const std::vector<oci::IdMapping>& maps) {
    json out = json::array();
    for (auto& m : maps) out.push_back({m.container_id, m.host_id, m.size});
    return out;
}

std::vector<oci::IdMapping> maps_from(const json& j, const char* key) {
    std::vector<oci::IdMapping> out;
    if (!j.contains(key) || !j[key].is_array()) return out;
    for (auto& m : j[key])
        out.push_back({m.at(0).get<uint32_t>(), m.at(1).get<uint32_t>(), m.at(2).get<uint32_t>()});
    return out;
}

json attachments_json(const std::vector<NetworkAttachment>& nets) {
    json out = json::array();
    for (auto& n : nets)
        out.push_back({{"network", n.network}, {"aliases", n.aliases}, {"ip", n.ip}});
    return out;
}

json publish_json(const std::vector<network::PortMapping>& ports) {
    json out = json::array();
    for (auto& p : ports) out.push_back(network::to_string(p));
    return out;
}

json config_json(const std::optional<ContainerConfig>& c) {
    if (!c) return nullptr;
    return json{{"entrypoint", c->entrypoint},
                {"cmd", c->cmd},
                {"env", c->env},
                {"user", c->user},
                {"working_dir", c->working_dir}};
}

std::optional<ContainerConfig> config_from_json(const json& j) {
    if (!j.is_object()) return std::nullopt;
    using strings = std::vector<std::string>;
    return ContainerConfig{j.value("entrypoint", strings{}), j.value("cmd", strings{}),
                           j.value("env", strings{}), j.value("user", ""),
                           j.value("working_dir", "")};
}

json to_json(const ContainerRecord& r) {
    return json{{"id", r.id},
                {"name", r.name},
                {"image", r.image},
                {"image_id", r.image_id},
                {"rootfs", r.rootfs},
                {"command", r.command},
                {"config", config_json(r.config)},
                {"created", r.created},
                {"status", to_string(r.status)},
                {"finished", r.finished},
                {"exit_code", r.exit_code},
                {"oom_killed", r.oom_killed},
                {"auto_remove", r.auto_remove},
                {"exposed_ports", r.exposed_ports},
                {"volumes", r.volumes},
                {"uid_maps", maps_json(r.uid_maps)},
                {"gid_maps", maps_json(r.gid_maps)},
                {"started", r.started},
                {"pid", r.pid},
                {"tty", r.tty},
                {"open_stdin", r.open_stdin},
                {"log_max_size", r.log_max_size},
                {"log_max_file", r.log_max_file},
                {"restart_count", r.restart_count},
                {"restart_policy", r.restart_policy},
                {"manually_stopped", r.manually_stopped},
                {"healthcheck", r.health ? health_config_json(*r.health) : json()},
                {"network", to_string(r.network)},
                {"network_options", r.network_options},
                {"publish", publish_json(r.publish)},
                {"networks", attachments_json(r.networks)},
                {"dns", r.dns}};
}

ContainerRecord from_json(const json& j) {
    ContainerRecord r;
    r.id = j.value("id", "");
    r.name = j.value("name", "");
    r.image = j.value("image", "");
    r.image_id = j.value("image_id", "");
    r.rootfs = j.value("rootfs", "");
    r.command = j.value("command", std::vector<std::string>{});
    r.config = config_from_json(j.value("config", json()));
    r.created = j.value("created", "");
    r.status = parse_status(j.value("status", "")).value_or(ContainerStatus::created);
    r.finished = j.value("finished", "");
    r.exit_code = j.value("exit_code", 0);
    r.oom_killed = j.value("oom_killed", false);
    r.auto_remove = j.value("auto_remove", false);
    r.exposed_ports = j.value("exposed_ports", std::vector<std::string>{});
    r.volumes = j.value("volumes", std::vector<std::string>{});
    r.uid_maps = maps_from(j, "uid_maps");
    r.gid_maps = maps_from(j, "gid_maps");
    if (r.uid_maps.empty() && j.value("userns_size", 0u) > 0) {  // records of an older husk
        uint32_t base = j.value("userns_base", 0u), size = j.value("userns_size", 0u);
        r.uid_maps = {{0, base, size}};
        r.gid_maps = {{0, j.value("userns_gid_base", base), size}};
    }
    r.started = j.value("started", "");
    r.pid = j.value("pid", 0);
    r.tty = j.value("tty", false);
    r.open_stdin = j.value("open_stdin", false);
    r.log_max_size = j.value("log_max_size", int64_t{0});
    r.log_max_file = j.value("log_max_file", 1);
    r.restart_count = j.value("restart_count", 0);
    r.restart_policy = j.value("restart_policy", "no");
    r.manually_stopped = j.value("manually_stopped", false);
    if (auto h = j.find("healthcheck"); h != j.end() && h->is_object())
        r.health = health_config_from(*h);
    // records from before bridge networking have none
    r.network = parse_network_mode(j.value("network", "none"));
    r.network_options = j.value("network_options", "");
    for (auto& p : j.value("publish", std::vector<std::string>{}))
        r.publish.push_back(network::parse_publish(p));
    for (auto& n : j.value("networks", json::array()))
        r.networks.push_back({n.value("network", ""),
                              n.value("aliases", std::vector<std::string>{}), n.value("ip", "")});
    r.dns = j.value("dns", std::vector<std::string>{});
    return r;
}

void random_bytes(void* buf, size_t n) {
    if (::getrandom(buf, n, 0) != static_cast<ssize_t>(n)) throw_sys("getrandom");
}

}  // namespace

std::string_view to_string(ContainerStatus s) {
    switch (s) {
        case ContainerStatus::created:
            return "created";
        case ContainerStatus::running:
            return "running";
        case ContainerStatus::exited:
            return "exited";
    }
    return "created";
}

std::optional<ContainerStatus> parse_status(std::string_view s) {
    for (auto st : {ContainerStatus::created, ContainerStatus::running, ContainerStatus::exited})
        if (to_string(st) == s) return st;
    return std::nullopt;
}

Containers::Containers(std::string data_root) : root_(std::move(data_root) + "/containers") {
    // 0711: a user-namespaced container's root must reach its bundle's files
    sys::mkdir_all(root_, 0711);
}

// Called under <root>/.lock: a staging directory then is one an add (.new-) or a remove
// (.gone-) killed halfway left.
void Containers::remove_stale_staging() const {
    for (auto& name : sys::list_dir(root_)) {
        if (!name.starts_with(".new-") && !name.starts_with(".gone-")) continue;
        try {
            sys::remove_all(root_ + "/" + name);
        } catch (const std::exception&) {
            // still busy (a mount under it): the next add tries again
        }
    }
}

void check_container_name(const std::string& name) {
    bool ok = !name.empty() && std::isalnum(static_cast<unsigned char>(name[0])) &&
              name.find_first_not_of(
                  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789_.-") == std::string::npos;
    if (!ok)
        throw Error(error_format(
            "invalid container name \"{}\", only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name));
}

namespace {
void check_name_free(const std::vector<ContainerRecord>& all, const std::string& name,
                     const std::string& self) {
    for (auto& r : all)
        if (r.name == name && r.id != self)
            throw Error(fmt::format("the container name \"{}\" is already in use by container "
                                    "\"{}\"; remove or rename that container to reuse the name",
                                    name, r.id),
                        0, ErrorKind::name_in_use);
}
}  // namespace

void Containers::add(
    ContainerRecord& rec,
    const std::function<void(ContainerRecord&, const std::vector<ContainerRecord>&)>& prepare) {
    sys::FileLock lk(root_ + "/.lock", sys::FileLock::exclusive);
    remove_stale_staging();
    auto all = list();
    check_name_free(all, rec.name, rec.id);
    if (prepare) prepare(rec, all);
    // Whole or not at all: a directory without its record (an add killed between the two)
    // would be a container no command knows, so none could remove it.
    std::string staging = root_ + "/.new-" + rec.id;
    if (::mkdir(staging.c_str(), 0711) != 0) throw_sys("mkdir", staging);
    sys::write_file_atomic(staging + "/container.json", to_json(rec).dump(2) + "\n", 0600);
    std::string d = dir(rec.id);
    if (::rename(staging.c_str(), d.c_str()) != 0) throw_sys("rename", staging);
}

void Containers::rename(const std::string& id, const std::string& name) {
    check_container_name(name);
    auto no_such = [&] { return Error(fmt::format("No such container: {}", id)); };
    if (!find(id)) throw no_such();  // (its lock file is in its directory)
    // The container's lock, then the table's: the order rm takes them in (remove_all_of),
    // so neither waits for the other holding the lock it needs; and no `husk run`
    // waits on the table while an operation holds this container.
    auto rec_lock = lock(id);
    sys::FileLock lk(root_ + "/.lock", sys::FileLock::exclusive);
    auto all = list();
    auto it = std::find_if(all.begin(), all.end(), [&](auto& r) { return r.id == id; });
    if (it == all.end()) throw no_such();  // removed while we waited
    if (it->name == name)
        throw Error("Renaming a container with the same name as its current name");
    check_name_free(all, name, id);
    it->name = name;
    save(*it);
}

void Containers::save(const ContainerRecord& rec) const {
    sys::write_file_atomic(dir(rec.id) + "/container.json", to_json(rec).dump(2) + "\n", 0600);
}

std::vector<ContainerRecord> Containers::list() const {
    std::vector<ContainerRecord> out;
    for (auto& name : sys::list_dir(root_)) {
        if (name.starts_with(".")) continue;
        std::string path = dir(name) + "/container.json";
        if (!sys::exists_follow(path)) continue;
        try {
            out.push_back(from_json(json::parse(sys::read_file(path))));
        } catch (const std::exception&) {
            // a record being written by another husk: skip it
        }
    }
    return out;
}

std::optional<ContainerRecord> Containers::find(const std::string& key) const {
    std::optional<ContainerRecord> by_prefix;
    int prefixes = 0;
    for (auto& r : list()) {
        if (r.id == key || r.name == key) return r;
        if (!key.empty() && r.id.starts_with(key)) {
            by_prefix = r;
            ++prefixes;
        }
    }
    if (prefixes > 1) throw Error(fmt::format("container id prefix \"{}\" is ambiguous", key));
    return by_prefix;
}

void Containers::remove(const std::string& id) {
    sys::FileLock lk(root_ + "/.lock", sys::FileLock::exclusive);
    // Out of its name first, in one step: a process that opens <id>/lock or writes a file
    // by path meanwhile (a restart helper left by a killed monitor) then finds no
    // directory, instead of making one entry again in a directory being emptied.
    std::string d = dir(id), gone = fmt::format("{}/.gone-{}", root_, id);
    if (::rename(d.c_str(), gone.c_str()) == 0)
        d = gone;
    else if (errno == ENOENT)
        return;
    sys::remove_all(d);
}

namespace {

sys::UniqueFd open_lock_file(const std::string& path) {
    sys::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd && errno == ENOENT)  // its directory removed meanwhile
        throw Error(fmt::format("No such container: {}", path.substr(0, path.rfind('/'))), ENOENT);
    if (!fd) throw_sys("open", path);
    return fd;
}

// F_OFD_SETLKW: owned by the open file, so no other fd of ours releases it by closing.
bool set_lock(int fd, short type, bool wait) {
    struct flock fl {};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    while (::fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) != 0) {
        if (errno == EINTR && wait) return false;  // timed out (SIGALRM)
        if (errno == EAGAIN || errno == EACCES) return false;
        throw_sys("fcntl(F_OFD_SETLK)");
    }
    return true;
}

void on_alarm(int) {}

}  // namespace

sys::UniqueFd Containers::lock(const std::string& id) const {
    auto fd = open_lock_file(dir(id) + "/lock");
    set_lock(fd.get(), F_WRLCK, true);
    return fd;
}

sys::UniqueFd Containers::watch(const std::string& id) const {
    auto fd = open_lock_file(dir(id) + "/monitor.lock");
    set_lock(fd.get(), F_WRLCK, true);
    return fd;
}

bool Containers::monitored(const std::string& id) const {
    std::string path = dir(id) + "/monitor.lock";
    sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return false;
    struct flock fl {};
    fl.l_type = F_RDLCK;
    fl.l_whence = SEEK_SET;
    if (::fcntl(fd.get(), F_OFD_GETLK, &fl) != 0) throw_sys("fcntl(F_OFD_GETLK)", path);
    return fl.l_type != F_UNLCK;
}

bool Containers::wait_unmonitored(const std::string& id, int timeout_ms) const {
    std::string path = dir(id) + "/monitor.lock";
    sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return true;
    if (timeout_ms < 0) return set_lock(fd.get(), F_RDLCK, true);
    if (set_lock(fd.get(), F_RDLCK, false)) return true;
    // A repeating timer interrupts the blocking lock (a handler without SA_RESTART): a
    // tick that comes before the fcntl is entered is followed by another one.
    struct sigaction sa {
    }, old{};
    sa.sa_handler = on_alarm;
    ::sigaction(SIGALRM, &sa, &old);
    itimerval t{};
    t.it_value.tv_usec = 10000;
    t.it_interval.tv_usec = 10000;
    ::setitimer(ITIMER_REAL, &t, nullptr);
    timespec start{}, now{};
    ::clock_gettime(CLOCK_MONOTONIC, &start);
    bool got = false;
    for (;;) {
        got = set_lock(fd.get(), F_RDLCK, true);
        ::clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed_ms =
            (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (got || elapsed_ms >= timeout_ms) break;
    }
    itimerval off{};
    ::setitimer(ITIMER_REAL, &off, nullptr);
    ::sigaction(SIGALRM, &old, nullptr);
    return got;
}

std::string new_container_id() {
    unsigned char b[32];
    random_bytes(b, sizeof b);
    std::string id;
    for (unsigned char c : b) id += fmt::format("{:02x}", c);
    // docker avoids ids that are all digits (they look like numbers): so do we
    if (id.substr(0, 12).find_first_not_of("0123456789") == std::string::npos) id[0] = 'a';
    return id;
}

std::string random_name() {
    static const char* adjectives[] = {"amazing", "brave",    "clever", "eager",  "focused",
                                       "gallant", "happy",    "jolly",  "keen",   "lucid",
                                       "modest",  "nifty",    "quirky", "serene", "tender",
                                       "vibrant", "wizardly", "zealous"};
    static const char* names[] = {"babbage",  "curie",    "dijkstra", "euler",   "hopper",
                                  "knuth",    "lovelace", "noether",  "ritchie", "shannon",
                                  "thompson", "torvalds", "turing",   "wozniak", "hamilton"};
    unsigned char b[2];
    random_bytes(b, sizeof b);
    return fmt::format("{}_{}", adjectives[b[0] % std::size(adjectives)],
                       names[b[1] % std::size(names)]);
}

}  // namespace husk::engine
