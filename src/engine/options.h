// What `husk run` is asked to do: docker's flags as typed values, and the
// parsers that turn their text into those values with docker's messages
// (`invalid argument "12q" for "-m, --memory" flag: invalid size: '12q'`).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/health.h"
#include "network/ports.h"
#include "oci/spec.h"

namespace husk::engine {

// A bind or tmpfs mount from -v, --mount or --tmpfs.
struct MountSpec {
    std::string type;  // "bind", "tmpfs" or "volume" (source: its name, "" for an anonymous one)
    std::string source;
    std::string target;
    bool readonly = false;
    std::vector<std::string> options;  // tmpfs options, bind propagation
    // --mount type=bind: a missing source is refused (as docker does); -v creates it.
    bool must_exist = false;
};

struct DeviceSpec {
    std::string host_path;
    std::string container_path;
    std::string permissions = "rwm";
};

// --network: the container's network mode; `user`: user-defined networks (husk network
// create), named in RunOptions::networks; `slirp4netns`: slirp4netns's user-mode network
// (network/slirp.h), its options in RunOptions::network_options.
enum class NetworkMode { bridge, none, host, user, slirp4netns };
std::string_view to_string(NetworkMode m);
// Throws `network mode "x" is not supported (bridge, none, host, slirp4netns)` for any other
// text.
NetworkMode parse_network_mode(std::string_view s);

// A container on a user-defined network: its name there (--network-alias, besides its
// name and short id) and the address asked for (--ip; "" = the next free one).
struct NetworkAttachment {
    std::string network;  // the network's name
    std::vector<std::string> aliases;
    std::string ip;
    bool operator==(const NetworkAttachment&) const = default;
};

// Every --network value: "bridge", "none", "host", "slirp4netns[:OPTIONS]" or network
// names (several). The mode,
// and the attachments with --network-alias and --ip on the first network. Throws
// docker's errors: `conflicting options: cannot attach both user-defined and
// non-user-defined network-modes`, `user specified IP address is supported on user
// defined networks only`, `network-scoped alias is supported only for containers in
// user defined networks`.
NetworkMode parse_networks(const std::vector<std::string>& values,
                           const std::vector<std::string>& aliases, const std::string& ip,
                           std::vector<NetworkAttachment>& out);

// The OPTIONS of a "slirp4netns:OPTIONS" among the --network values ("" without), checked
// (network::parse_slirp_options: one line naming a bad one).
std::string slirp_options_of(const std::vector<std::string>& values);

// --userns: "" (not given), host, auto, keep-id (refused: rootless only, as in podman).
enum class UsernsMode { unset, host, automatic, keep_id };
std::string_view to_string(UsernsMode m);
// Throws `--userns=x is not supported (host, auto)` for any other text.
UsernsMode parse_userns_mode(std::string_view s);

struct RunOptions {
    // what to run
    std::string image;  // empty with --rootfs; the reference the container records
    // run --platform: the manifest digest of `image`'s image of that platform (the store
    // resolves it from the index it came as); empty: `image` itself, pulled if missing
    std::string image_digest;
    std::string rootfs;  // --rootfs DIR
    std::vector<std::string> command;
    std::optional<std::string> entrypoint;  // --entrypoint ("" clears the image's)
    std::vector<std::string> env;           // -e and --env-file, in order ("K=V" or "K")
    std::string workdir;
    std::string user;  // -u user[:group]
    std::string name;
    std::string hostname;
    bool rm = false;
    bool interactive = false;
    bool tty = false;
    bool init = false;
    bool read_only = false;
    bool privileged = false;
    bool no_new_privileges = false;
    std::string seccomp;  // "" default, "unconfined", or a file
    std::vector<std::string> cap_add, cap_drop;
    NetworkMode network = NetworkMode::bridge;
    std::vector<NetworkAttachment> networks;  // mode user: --network NAME...
    std::string network_options;              // mode slirp4netns: its options (slirp4netns:OPTIONS)
    std::vector<network::PortMapping> publish;              // -p, parsed where the flag is
    bool publish_all = false;                               // -P: every port the image exposes
    std::vector<std::string> expose;                        // --expose PORT[-PORT][/PROTO]
    std::vector<std::string> add_hosts;                     // --add-host HOST:IP (or HOST=IP)
    std::vector<std::string> dns, dns_search, dns_options;  // --dns, --dns-search, --dns-option
    UsernsMode userns = UsernsMode::unset;
    std::vector<oci::IdMapping> uidmap, gidmap;  // --uidmap / --gidmap
    std::string stop_signal;
    std::map<std::string, std::string> labels;
    std::map<std::string, std::string> sysctls;
    std::vector<MountSpec> mounts;
    std::vector<DeviceSpec> devices;
    std::vector<oci::Rlimit> ulimits;
    // resources
    std::optional<int64_t> memory, memory_swap, memory_reservation, shm_size;
    std::optional<double> cpus;
    std::optional<uint64_t> cpu_shares;
    std::string cpuset_cpus, cpuset_mems;
    std::optional<int64_t> pids_limit;
    std::optional<uint16_t> blkio_weight;
    // /proc, /sys and sysinfo(2) show the limits (runtime/procvirt.h); unset: on when
    // there is a memory or CPU limit.
    std::optional<bool> proc_virtualize;
    // lifecycle
    std::string restart = "no";  // --restart (engine/restart.h)
    HealthFlags health;          // --health-*, --no-healthcheck (engine/health.h)
};

// docker's size units: "32m", "1.5g", "512k", "100" (bytes); b k m g t p, any case,
// an optional trailing "b"/"ib". Throws `invalid size: '12q'`.
int64_t parse_size(std::string_view s);
// Wraps a parser's message as docker's CLI does:
//   invalid argument "12q" for "-m, --memory" flag: invalid size: '12q'
[[noreturn]] void bad_flag(std::string_view flag, std::string_view value, std::string_view why);

// Go's durations ("1m30s", "500ms", "1.5h", "0"; units ns us ms s m h): nanoseconds;
// nullopt when the text is not one. A leading "-" gives a negative duration.
std::optional<int64_t> parse_go_duration(std::string_view s);

// A size flag's text ("" when not given: nullopt); throws bad_flag's line naming `flag`.
std::optional<int64_t> parse_size_flag(std::string_view flag, const std::string& value);

// docker's memory flags, the one place their rules live:
//  -m/--memory: a size, at least 6MB;
//  --memory-swap: memory+swap, a size or -1 (unlimited swap); needs -m (but -1) and is at
//    least -m; without it, swap is as much as memory again (2 x -m) where the memory
//    controller limits swap (`swap_limit_supported`, asked only then);
//  --memory-reservation: a size, the soft limit.
// parse_memory_flags puts their text into `o` (flag errors); memory_resources gives
// linux.resources.memory (nullopt without them) or throws docker's line for a bad relation.
void parse_memory_flags(RunOptions& o, const std::string& memory, const std::string& swap,
                        const std::string& reservation);
std::optional<oci::MemoryResources> memory_resources(
    const RunOptions& o, const std::function<bool()>& swap_limit_supported);

// The value parsers of the flags; each throws husk::Error with docker's message.
double parse_cpus(std::string_view s, int host_cpus);
oci::Rlimit parse_ulimit(std::string_view s);  // nofile=1024:2048
// --uidmap/--gidmap CONTAINER-ID:HOST-ID:AMOUNT, as podman.
oci::IdMapping parse_idmap(std::string_view flag, std::string_view s);
// --uidmap/--gidmap ranges as the kernel takes a map: root mapped, no two ranges
// overlapping inside or outside; throws one line naming `flag` otherwise.
void check_idmaps(std::string_view flag, const std::vector<oci::IdMapping>& maps);
// Throws docker's error for a name that is no valid local volume name.
void check_volume_name(const std::string& name);
MountSpec parse_volume(std::string_view s);   // /host:/ctr[:ro|rw], NAME:/ctr[:..], /ctr
MountSpec parse_mount(std::string_view s);    // type=bind,src=..,dst=..
MountSpec parse_tmpfs(std::string_view s);    // /run[:size=64m]
DeviceSpec parse_device(std::string_view s);  // /dev/x[:/dev/y[:rwm]]
std::pair<std::string, std::string> parse_key_value(std::string_view s);  // k=v (v may be "")
// Lines of an --env-file: "K=V", "K" (taken from our environment), # comments. Throws
// naming the flag and the file when it cannot be read (a directory) or holds a NUL byte.
std::vector<std::string> parse_env_file(const std::string& path);
// --stop-signal: the signal number; throws docker's `invalid signal: BOGUS`.
int parse_stop_signal(const std::string& s);
// One --security-opt into `o`: no-new-privileges[=BOOL], seccomp=FILE|unconfined;
// apparmor=unconfined and label=disable (nothing to switch off: husk applies no LSM
// label); any other AppArmor profile or SELinux label is refused, never ignored.
void apply_security_opt(const std::string& s, RunOptions& o);
// The one line a refused --mount type=bind with a missing source gives (docker's).
void check_bind_sources(const std::vector<MountSpec>& mounts);

}  // namespace husk::engine
