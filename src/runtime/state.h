// A container's state directory under --root: state.json (written atomically,
// under the container's lock) and exec.fifo (present until `start`). state.json exists
// from the start of create, saying "creating" until the init waits for `start`.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "oci/state.h"
#include "sys/fd.h"

namespace husk::runtime {

struct Record {
    std::string id;
    std::string bundle;
    std::string rootfs;
    std::string created;  // RFC 3339
    std::string owner;
    int pid = 0;
    uint64_t start_time = 0;  // of the init, to never mistake a reused pid for it
    std::string cgroup;       // cgroup::Manager::save()
    std::map<std::string, std::string> annotations;
    bool use_pid_ns = true;    // false: kill needs the cgroup to reach every process
    bool new_keyring = false;  // the init joined "_ses.<id>" (exec joins it too)
    std::string config;        // the hooks of config.json needed after create (JSON text)
    // Still being created: create records the cgroup (then the init's pid and start time)
    // before making it, so `delete --force` finds everything even when create was killed.
    bool creating = false;
};

class StateDir {
  public:
    // The directory of `id` under `root` (the id is validated: no '/', not "." or "..").
    StateDir(const std::string& root, const std::string& id);

    const std::string& path() const { return dir_; }
    const std::string& id() const { return id_; }
    std::string fifo_path() const { return dir_ + "/exec.fifo"; }

    // mkdir the directory; throws `container "ID" already exists` when it does.
    void create_new();
    bool exists() const;
    // Exclusive lock held until the object dies (flock on the directory).
    void lock();

    Record load() const;  // throws `container "ID" does not exist`
    // state.json's text (throws as load), and the record in such a text.
    std::string read_text() const;
    Record parse(const std::string& text) const;
    // Writes state.json atomically; returns the text written.
    std::string save(const Record& r) const;
    void remove();  // the whole directory

  private:
    std::string root_, id_, dir_;
    sys::UniqueFd lock_fd_;
    // save()'s cache: the last Record::cgroup it wrote, and that as a JSON string.
    mutable std::string cgroup_escaped_of_, cgroup_escaped_;
};

// The status as the OCI spec defines it, derived (never stored): the init's
// liveness, the exec fifo and the freezer ("creating" while create has not finished:
// under the container's lock, that means its create was killed).
std::string status_of(const StateDir& dir, const Record& r, bool frozen);

// Every container id under `root` (sorted).
std::vector<std::string> list_ids(const std::string& root);

std::string now_rfc3339();
void validate_id(const std::string& id);

}  // namespace husk::runtime
