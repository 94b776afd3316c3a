// husk run [OPTIONS] IMAGE [COMMAND [ARG...]]
// husk run [OPTIONS] --rootfs DIR COMMAND [ARG...]
// husk create [OPTIONS] IMAGE [COMMAND [ARG...]]
// Runs a container in the foreground (or detached, -d, under its monitor) with docker's
// flags and exit codes; `create` makes it without starting it.
#include <unistd.h>

#include <fmt/format.h>

#include "cli/husk/command.h"
#include "cli/husk/container_cmd.h"
#include "cli/husk/util.h"
#include "engine/config_file.h"
#include "engine/events.h"
#include "engine/lifecycle.h"
#include "engine/monitor.h"
#include "engine/run.h"
#include "image/platforms.h"
#include "image/pull.h"
#include "image/store.h"
#include "network/ports.h"
#include "oci/image/reference.h"
#include "sys/error.h"

namespace husk::cli {
namespace {

// The flags as CLI11 gives them (text); engine::RunOptions gets the parsed values.
struct RunFlags {
    engine::RunOptions o;
    std::vector<std::string> env, env_files, volumes, mounts, tmpfs, devices, ulimits, labels,
        sysctls, security_opts, uidmaps, gidmaps, publish, networks, network_aliases;
    std::string userns, ip, platform;
    std::string entrypoint, memory, memory_swap, memory_reservation, shm_size, cpus,
        proc_virtualize;
    bool entrypoint_set = false;
    std::optional<int64_t> pids_limit;
    std::optional<uint64_t> cpu_shares;
    std::optional<uint16_t> blkio_weight;
    RegistryFlags reg;
    bool detach = false;
    std::string detach_keys = "ctrl-p,ctrl-q", log_driver = "json-file";
    std::vector<std::string> log_opts;
};

// --log-opt max-size=10m, max-file=3 (json-file's options)
engine::LogOptions log_options(const RunFlags& f) {
    if (f.log_driver != "json-file")
        throw Error(
            error_format("logging driver \"{}\" is not supported (json-file)", f.log_driver));
    engine::LogOptions l;
    for (auto& opt : f.log_opts) {
        size_t eq = opt.find('=');
        std::string k = opt.substr(0, eq), v = eq == std::string::npos ? "" : opt.substr(eq + 1);
        if (k == "max-size") {
            try {
                l.max_size = engine::parse_size(v);
            } catch (const Error& e) {
                engine::bad_flag("--log-opt", opt, e.what());
            }
        } else if (k == "max-file") {
            char* end = nullptr;
            long n = std::strtol(v.c_str(), &end, 10);
            if (v.empty() || *end != '\0' || n < 1)
                engine::bad_flag("--log-opt", opt, "max-file must be a positive number");
            l.max_file = static_cast<int>(n);
        } else {
            throw Error(error_format("unknown log opt '{}' for json-file log driver", k));
        }
    }
    return l;
}

void add_flags(CLI::App* sub, RunFlags& f) {
    auto multi = [&](const char* name, std::vector<std::string>& v, const char* desc) {
        sub->add_option(name, v, desc)->allow_extra_args(false);
    };
    auto& o = f.o;
    sub->set_help_flag("--help", "print this help");  // -h is --hostname, as in docker
    sub->add_flag("--rm", o.rm, "remove the container when it exits");
    sub->add_flag("-i,--interactive", o.interactive, "keep stdin open");
    sub->add_flag("-t,--tty", o.tty, "allocate a pseudo-terminal");
    sub->add_option("--name", o.name, "name of the container");
    sub->add_option("--rootfs", o.rootfs, "run from this root filesystem directory (no image)");
    sub->add_option("--platform", f.platform,
                    "the image's platform (os/arch[/variant]); another machine's runs through "
                    "binfmt_misc");
    multi("-e,--env", f.env, "set an environment variable (KEY=VALUE, or KEY to copy ours)");
    multi("--env-file", f.env_files, "read environment variables from a file");
    sub->add_option("-w,--workdir", o.workdir, "working directory inside the container");
    sub->add_option("-u,--user", o.user, "user[:group] (names from the container's files)");
    sub->add_option("-h,--hostname", o.hostname, "hostname of the container");
    sub->add_option("--entrypoint", f.entrypoint, "override the image's entrypoint");
    multi("-v,--volume", f.volumes, "HOST-DIR|VOLUME:CONTAINER-DIR[:ro|rw], or CONTAINER-DIR");
    multi("--mount", f.mounts, "type=bind|tmpfs,source=...,target=...[,readonly]");
    multi("--tmpfs", f.tmpfs, "mount a tmpfs: CONTAINER-DIR[:OPTIONS]");
    sub->add_flag("--read-only", o.read_only, "mount the root filesystem read-only");
    sub->add_option("-m,--memory", f.memory, "memory limit (e.g. 32m)");
    sub->add_option("--memory-swap", f.memory_swap, "memory + swap limit; -1: unlimited swap");
    sub->add_option("--memory-reservation", f.memory_reservation, "memory soft limit");
    sub->add_option("--cpus", f.cpus, "number of CPUs (e.g. 1.5)");
    sub->add_option("-c,--cpu-shares", f.cpu_shares, "CPU shares (relative weight)");
    sub->add_option("--cpuset-cpus", o.cpuset_cpus, "CPUs allowed (0-3, 0,1)");
    sub->add_option("--cpuset-mems", o.cpuset_mems, "memory nodes allowed");
    sub->add_option("--proc-virtualize", f.proc_virtualize,
                    "/proc, /sys and sysinfo show the limits: true (default with -m, --cpus, "
                    "--cpuset-cpus) or false");
    sub->add_option("--pids-limit", f.pids_limit, "maximum number of processes (-1: unlimited)");
    multi("--device", f.devices, "add a host device: HOST[:CONTAINER[:rwm]]");
    sub->add_option("--blkio-weight", f.blkio_weight, "block IO weight (10-1000)");
    multi("--ulimit", f.ulimits, "ulimit: name=soft[:hard]");
    multi("--cap-add", o.cap_add, "add a capability");
    multi("--cap-drop", o.cap_drop, "drop a capability");
    multi("--security-opt", f.security_opts, "seccomp=FILE|unconfined, no-new-privileges");
    sub->add_flag("--privileged", o.privileged, "all capabilities, no seccomp, no masked paths");
    sub->add_option("--userns", f.userns, "user namespace: host, auto (keep-id: rootless only)");
    multi("--uidmap", f.uidmaps, "user namespace uid map CONTAINER-ID:HOST-ID:AMOUNT");
    multi("--gidmap", f.gidmaps, "user namespace gid map CONTAINER-ID:HOST-ID:AMOUNT");
    sub->add_flag("--init", o.init, "run husk-init as PID 1 (forwards signals, reaps zombies)");
    sub->add_option("--stop-signal", o.stop_signal, "signal that stops the container");
    multi("--sysctl", f.sysctls, "namespaced kernel parameter: name=value");
    sub->add_option("--shm-size", f.shm_size, "size of /dev/shm (e.g. 64m)");
    multi("-l,--label", f.labels, "set a label: key=value");
    multi("--network,--net", f.networks,
          "network: bridge (default; a user's: pasta, or husk.conf's "
          "default_rootless_network_cmd), none, host, slirp4netns[:OPTIONS], or networks' "
          "names (several)");
    multi("--network-alias", f.network_aliases, "a name on the (first) network besides its own");
    sub->add_option("--ip", f.ip, "its IPv4 address on the (first) network");
    multi("-p,--publish", f.publish, "publish a port: [[IP:][HOSTPORT]:]CPORT[/tcp|/udp]");
    sub->add_flag("-P,--publish-all", o.publish_all, "publish every exposed port to a free one");
    multi("--expose", o.expose, "expose a port or a range: PORT[-PORT][/tcp|/udp]");
    multi("--add-host", o.add_hosts,
          "add a line to /etc/hosts: HOST:IP (IP host-gateway: the host as the network "
          "reaches it)");
    multi("--dns", o.dns, "name server for /etc/resolv.conf (replaces the host's)");
    multi("--dns-search", o.dns_search, "search domain for /etc/resolv.conf");
    multi("--dns-option", o.dns_options, "option for /etc/resolv.conf");
    if (sub->get_name() == "run") {
        sub->add_flag("-d,--detach", f.detach, "run in the background; print the container id");
        sub->add_option("--detach-keys", f.detach_keys, "keys that detach from it (ctrl-p,ctrl-q)");
    }
    sub->add_option("--restart", o.restart, "no, on-failure[:N], always, unless-stopped");
    sub->add_option("--health-cmd", o.health.cmd, "command that checks the container's health");
    sub->add_option("--health-interval", o.health.interval, "time between checks (30s)");
    sub->add_option("--health-timeout", o.health.timeout, "time a check may take (30s)");
    sub->add_option("--health-retries", o.health.retries, "failures in a row: unhealthy (3)");
    sub->add_option("--health-start-period", o.health.start_period,
                    "time to start before failures count (0s)");
    sub->add_option("--health-start-interval", o.health.start_interval,
                    "time between checks in the start period (5s)");
    sub->add_flag("--no-healthcheck", o.health.none, "no health check (not the image's either)");
    sub->add_option("--log-driver", f.log_driver, "json-file (the only one)");
    multi("--log-opt", f.log_opts, "json-file options: max-size=SIZE, max-file=N");
    f.reg.add(sub);
    // IMAGE and COMMAND: everything from the first positional on is the container's.
    sub->prefix_command();
}

engine::RunOptions finish(RunFlags& f, const std::vector<std::string>& rest) {
    engine::RunOptions o = f.o;
    std::vector<std::string> args = rest;
    if (!args.empty() && args[0].starts_with("-") && args[0] != "-")
        throw Error(error_format("unknown flag: {}", args[0]));
    if (o.rootfs.empty()) {
        if (args.empty())
            throw Error("\"husk run\" requires at least 1 argument: IMAGE [COMMAND] [ARG...]");
        o.image = args[0];
        args.erase(args.begin());
    }
    o.command = args;
    for (auto& file : f.env_files)
        for (auto& e : engine::parse_env_file(file)) o.env.push_back(e);
    for (auto& e : f.env) o.env.push_back(e);
    if (f.entrypoint_set) o.entrypoint = f.entrypoint;
    for (auto& v : f.volumes) o.mounts.push_back(engine::parse_volume(v));
    for (auto& m : f.mounts) o.mounts.push_back(engine::parse_mount(m));
    for (auto& t : f.tmpfs) o.mounts.push_back(engine::parse_tmpfs(t));
    for (auto& d : f.devices) o.devices.push_back(engine::parse_device(d));
    for (auto& u : f.ulimits) o.ulimits.push_back(engine::parse_ulimit(u));
    for (auto& l : f.labels) o.labels.insert(engine::parse_key_value(l));
    for (auto& s : f.sysctls) o.sysctls.insert(engine::parse_key_value(s));
    engine::parse_memory_flags(o, f.memory, f.memory_swap, f.memory_reservation);
    o.shm_size = engine::parse_size_flag("--shm-size", f.shm_size);
    if (o.shm_size == 0) o.shm_size.reset();  // docker: 0 is the default size
    if (!f.cpus.empty())
        o.cpus = engine::parse_cpus(f.cpus, static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)));
    o.cpu_shares = f.cpu_shares;
    o.pids_limit = f.pids_limit;
    if (!f.proc_virtualize.empty()) {
        if (f.proc_virtualize != "true" && f.proc_virtualize != "false")
            engine::bad_flag("--proc-virtualize", f.proc_virtualize, "expected true or false");
        o.proc_virtualize = f.proc_virtualize == "true";
    }
    o.blkio_weight = f.blkio_weight;
    for (auto& m : f.uidmaps) o.uidmap.push_back(engine::parse_idmap("--uidmap", m));
    for (auto& m : f.gidmaps) o.gidmap.push_back(engine::parse_idmap("--gidmap", m));
    for (auto& s : f.security_opts) engine::apply_security_opt(s, o);
    o.network = engine::parse_networks(f.networks, f.network_aliases, f.ip, o.networks);
    if (f.networks.empty()) o.network = engine::default_network_mode();  // husk.conf's
    o.network_options = engine::slirp_options_of(f.networks);
    for (auto& p : f.publish)
        for (auto& one : network::parse_publish_ranges(p)) o.publish.push_back(one);
    o.userns = engine::parse_userns_mode(f.userns);
    return o;
}

// husk run -d / husk create: the container made; run -d starts it under its monitor.
int run_detached(engine::EngineContext& ec, const RunFlags& f, engine::RunOptions o, bool start) {
    engine::LogOptions log = log_options(f);
    if (start) engine::parse_detach_keys(f.detach_keys);
    auto rec = engine::create_container(ec, std::move(o), log);
    if (start) {
        try {
            engine::start_container(ec, rec);
        } catch (...) {
            if (rec.auto_remove) engine::remove_container(ec, engine::lookup(ec, rec.id), true);
            throw;
        }
    }
    fmt::print("{}\n", rec.id);
    return 0;
}

// husk run --restart/--health-cmd in the foreground: the container under its monitor,
// attached as `husk start -a` is; the exit code of its last run.
int run_attached(engine::EngineContext& ec, const RunFlags& f, engine::RunOptions o) {
    std::string keys = engine::parse_detach_keys(f.detach_keys);
    bool in = o.interactive;
    auto rec = engine::create_container(ec, std::move(o), log_options(f));
    engine::Containers db(ec.data_root);
    sys::UniqueFd sock;
    engine::start_container(ec, rec, [&] { sock = engine::connect_attach(db, rec.id); });
    int code = engine::attach_relay(sock.get(), rec.tty, in, keys);
    if (code == -2) return 0;  // detached: it runs on
    db.wait_unmonitored(rec.id);
    return code;
}

void add_run_or_create(CLI::App& app, Context& ctx, Commands& cmds, const char* name,
                       const char* desc) {
    auto f = std::make_shared<RunFlags>();
    auto* sub = app.add_subcommand(name, desc);
    add_flags(sub, *f);
    auto* ep = sub->get_option("--entrypoint");
    bool create = std::string(name) == "create";
    cmds.on(sub, [f, sub, ep, create, &ctx] {
        try {
            f->entrypoint_set = ep->count() > 0;
            engine::RunOptions o = finish(*f, sub->remaining());
            engine::EngineContext ec = engine_context(ctx);
            ec.store = &ctx.store();
            // as `husk pull --platform`: the name then points to the platform's image
            image::PullPlatform pull_platform = [&](const std::string& ref,
                                                    const oci::image::Platform& p) {
                image::CredentialStore creds(image::auth_file_path(ctx.root));
                image::PullOptions po;
                po.registry = f->reg.options(ctx, creds);
                po.platform = p;
                return image::pull(ctx.store(), oci::image::parse_reference(ref), po);
            };
            ec.pull = [&pull_platform](const std::string& ref) {
                pull_platform(ref, oci::image::host_platform());
            };
            if (!f->platform.empty() && !o.image.empty())
                // the container records the reference given, and runs its platform's image
                o.image_digest =
                    image::image_for_platform(
                        ctx.store(), o.image, oci::image::parse_platform(f->platform),
                        [&](const std::string& ref, const oci::image::Platform& p) {
                            fmt::print(stderr, "Unable to find image '{}' for {} locally\n", ref,
                                       p.str());
                            image::Image img = pull_platform(ref, p);
                            engine::emit_image_event(ctx.root, "pull", ref);  // as a plain run's
                            return img;
                        })
                        .manifest_digest;
            if (create || f->detach) return run_detached(ec, *f, std::move(o), !create);
            // a restart policy and health checks are the monitor's: attached to it
            if (o.restart != "no" || !o.health.cmd.empty())
                return run_attached(ec, *f, std::move(o));
            return engine::run_foreground(ec, std::move(o));
        } catch (const Error& e) {
            std::fflush(stdout);
            fmt::print(stderr, "husk: {}\n", e.what());
            return e.exit_code() != 0 ? e.exit_code() : engine::kExitEngineError;
        } catch (const std::exception& e) {
            std::fflush(stdout);
            fmt::print(stderr, "husk: {}\n", e.what());
            return engine::kExitEngineError;
        }
    });
}

void add_run(CLI::App& app, Context& ctx, Commands& cmds) {
    add_run_or_create(app, ctx, cmds, "run", "run a command in a new container");
    add_run_or_create(app, ctx, cmds, "create", "create a new container (not started)");
}

}  // namespace

HUSK_COMMAND(run, add_run);

}  // namespace husk::cli
