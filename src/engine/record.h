// The container database: one record per container in
// <data root>/containers/<id>/container.json (written atomically), next to its
// bundle, its json-file log and, while it runs, its monitor's files (monitor.lock,
// attach.sock, exit.json). Names are unique; every change of the set happens under
// <data root>/containers/.lock, every change of one record under <id>/lock.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/health.h"
#include "engine/options.h"
#include "image/idshift.h"
#include "network/ports.h"

#include "sys/fd.h"

namespace husk::engine {

// What a container is doing, as the record keeps it (docker's words). Paused is not
// one of them: a running container's flag, read from the runtime.
enum class ContainerStatus { created, running, exited };
std::string_view to_string(ContainerStatus s);
// "created", "running" or "exited"; nullopt for any other text.
std::optional<ContainerStatus> parse_status(std::string_view s);

// What a container runs, in the terms of docker's Config: the image's defaults with what
// run/create changed. commit writes it into the new image; inspect shows it.
struct ContainerConfig {
    std::vector<std::string> entrypoint;  // the image's, or --entrypoint's
    std::vector<std::string> cmd;         // the image's, or the command given
    std::vector<std::string> env;         // the image's, then -e and --env-file (resolved)
    std::string user;                     // -u, or the image's
    std::string working_dir;              // -w, or the image's
};

struct ContainerRecord {
    std::string id;  // 64 hex digits
    std::string name;
    std::string image;     // as the user named it ("" with --rootfs)
    std::string image_id;  // "sha256:..." ("" with --rootfs)
    std::string rootfs;    // the root filesystem directory
    std::vector<std::string> command;
    std::optional<ContainerConfig> config;  // (none in records written before it)
    std::string created;                    // RFC 3339
    ContainerStatus status = ContainerStatus::created;
    std::string started;
    std::string finished;
    int exit_code = 0;    // -1: unknown (the monitor died before the container)
    int pid = 0;          // of the init, while running
    bool paused = false;  // running with its processes frozen (not stored: read from the runtime)
    // The state docker shows (ps, inspect, `--filter status=`): "paused" or the status.
    std::string_view state() const {
        return restarting ? "restarting" : paused ? "paused" : to_string(status);
    }
    bool oom_killed = false;
    bool auto_remove = false;
    // Its user namespace: --userns=auto's range or the --uidmap/--gidmap ranges (empty:
    // none). Everything else about it (the container root's host ids) derives from these.
    std::vector<oci::IdMapping> uid_maps, gid_maps;
    std::optional<image::IdShift> id_shift() const {
        if (uid_maps.empty()) return std::nullopt;
        return image::IdShift{0, 0, 0, uid_maps, gid_maps};
    }
    // the image's ExposedPorts, --expose's and -p's ("80/tcp"): docker's Config.ExposedPorts
    std::vector<std::string> exposed_ports;
    std::vector<std::string> volumes;  // names of the volumes it mounts (engine/volumes.h)
    // detached containers
    bool tty = false;
    bool open_stdin = false;
    int64_t log_max_size = 0;  // --log-opt max-size (0: unbounded)
    int log_max_file = 1;      // --log-opt max-file
    // --restart (docker's text, checked by monitor/restart_policy.h): carried out by the
    // monitor; restart_count counts its restarts since the last start through husk.
    std::string restart_policy = "no";
    int restart_count = 0;
    // stopped, killed or removed through husk (docker's HasBeenManuallyStopped): the policy
    // restarts it no more; `start --all-restartable` leaves an unless-stopped one alone.
    bool manually_stopped = false;
    // Between two runs, in its monitor's backoff (not stored: from <id>/exit.json).
    bool restarting = false;
    std::optional<HealthConfig> health;  // its health check, none without one
    // --network (bridge | none | host | slirp4netns) and -p as given (host port 0 = chosen at each
    // start; stored in network::to_string form). While connected, <id>/network.json holds
    // the endpoint (address, host ports, CNI result).
    NetworkMode network = NetworkMode::bridge;
    std::string network_options;  // slirp4netns: its options (network/slirp.h)
    std::vector<network::PortMapping> publish;
    // the user-defined networks it is on (mode user, or `husk network connect`); while
    // connected, <id>/endpoints/<network>.json holds each endpoint
    std::vector<NetworkAttachment> networks;
    // --dns: on user-defined networks, where their DNS responders forward the names they
    // do not own for this container (its /etc/resolv.conf names the responder)
    std::vector<std::string> dns;
};

class Containers {
  public:
    explicit Containers(std::string data_root);

    std::string dir(const std::string& id) const { return root_ + "/" + id; }

    // Adds `rec` (its directory made) unless its name is taken:
    //   the container name "web" is already in use by container "3f2a..."
    // `prepare` runs under the lock first, with every existing record (e.g. to pick
    // an id range no other container uses).
    void add(ContainerRecord& rec,
             const std::function<void(ContainerRecord&, const std::vector<ContainerRecord>&)>&
                 prepare = {});
    void save(const ContainerRecord& rec) const;
    // Gives container `id` the name `name` under its lock and the set's; a name taken by another
    // container throws as add does (ErrorKind::name_in_use).
    void rename(const std::string& id, const std::string& name);
    std::vector<ContainerRecord> list() const;
    // By full id, unique id prefix, or name.
    std::optional<ContainerRecord> find(const std::string& name_or_id) const;
    // Removes the record and its directory (bundle included).
    void remove(const std::string& id);

    // Serializes the changes of one container's record (start, cleanup, rm): an fcntl
    // lock on <id>/lock, held until the returned object dies.
    sys::UniqueFd lock(const std::string& id) const;
    // Is a monitor (or the cleanup it became) alive for the container? It holds an
    // fcntl write lock on <id>/monitor.lock for as long as it lives.
    bool monitored(const std::string& id) const;
    // Takes <id>/monitor.lock as a monitor does, for a process that watches its container
    // itself (a foreground `husk run`), so other commands do not take it for dead.
    sys::UniqueFd watch(const std::string& id) const;
    // Blocks until no monitor holds <id>/monitor.lock; false when `timeout_ms` (>= 0)
    // passed first.
    bool wait_unmonitored(const std::string& id, int timeout_ms = -1) const;

  private:
    void remove_stale_staging() const;
    std::string root_;
};

// Throws docker's error for a name that is no valid container name
// ([a-zA-Z0-9][a-zA-Z0-9_.-]*).
void check_container_name(const std::string& name);

// A fresh random container id (64 hex digits) and a docker-style name ("brave_turing").
std::string new_container_id();
std::string random_name();

}  // namespace husk::engine
