#include "engine/run.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/bundle.h"
#include "engine/emulation.h"
#include "engine/events.h"
#include "engine/monitor.h"
#include "engine/network.h"
#include "engine/networks.h"
#include "engine/paths.h"
#include "engine/record.h"
#include "engine/restart.h"
#include "engine/rootless.h"
#include "engine/rootless_netns.h"
#include "engine/volumes.h"
#include "image/platforms.h"
#include "image/store.h"
#include "network/conflist.h"
#include "network/pasta.h"
#include "network/ports.h"
#include "network/slirp.h"
#include "network/usernet.h"
#include "oci/image/reference.h"
#include "runtime/container.h"
#include "runtime/state.h"
#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/log.h"
#include "sys/scope_guard.h"
#include "sys/user_dirs.h"

namespace husk::engine {

namespace {

void validate(const RunOptions& o) {
    if (o.image.empty() && o.rootfs.empty())
        throw Error("\"husk run\" requires at least 1 argument: IMAGE [COMMAND] [ARG...]");
    if (o.network == NetworkMode::none && (!o.publish.empty() || o.publish_all))
        throw Error("conflicting options: port publishing and the container type network mode");
    add_host_lines(o.add_hosts, o.network);
    if (o.network == NetworkMode::host &&
        (!o.dns.empty() || !o.dns_search.empty() || !o.dns_options.empty()))
        throw Error("conflicting options: dns and the network mode");
    for (auto& d : o.dns) {
        unsigned char buf[16];
        if (::inet_pton(AF_INET, d.c_str(), buf) != 1 && ::inet_pton(AF_INET6, d.c_str(), buf) != 1)
            throw Error(error_format("{} is not an ip address", d));
    }
    if (sys::rootless()) {
        // a user's own networks are in its namespace (engine/rootless_netns.h); a users'
        // CNI conflist's plugins work on the host's
        for (auto& att : o.networks)
            if (!network::cni_network_name(att.network).empty())
                throw Error(fmt::format(
                    "rootless: network \"{}\" needs root (its CNI plugins work on the host's "
                    "network); use a network of husk network create",
                    att.network));
        if (o.userns != UsernsMode::unset || !o.uidmap.empty() || !o.gidmap.empty())
            throw Error(
                "rootless: --userns, --uidmap and --gidmap are not supported yet (every "
                "container gets the user's own namespace)");
    }
    if (o.userns == UsernsMode::keep_id)
        throw Error(
            "--userns=keep-id is only supported in rootless mode, as in podman (husk runs as "
            "root: use --userns=auto or --uidmap)");
    if (!o.uidmap.empty() || !o.gidmap.empty()) {
        if (o.userns != UsernsMode::unset)
            throw Error("--userns and --uidmap/--gidmap cannot be used together");
        check_idmaps("--uidmap", o.uidmap);
        check_idmaps("--gidmap", o.gidmap);
    }
    if (o.hostname.size() > oci::kUtsNameMax)
        bad_flag("-h, --hostname", o.hostname,
                 fmt::format("longer than the kernel's {} bytes", oci::kUtsNameMax));
    if (!o.stop_signal.empty()) parse_stop_signal(o.stop_signal);
    check_restart_policy(o.restart);
    if (o.rm && o.restart != "no")
        throw Error("Conflicting options: --restart and --rm", ExitCode{kExitEngineError});
    resolve_health(o.health, nullptr);  // the flags' own errors, before anything is made
    check_bind_sources(o.mounts);
    if (!o.name.empty()) check_container_name(o.name);
}

// The image to run: `digest`'s when run --platform chose it, else the store's `ref`, else
// pulled. One of another platform than this machine's runs only through binfmt_misc.
image::Image resolve_image(EngineContext& ctx, const std::string& ref, const std::string& digest) {
    image::Image img = [&] {
        if (!digest.empty()) return ctx.store->resolve(digest);
        try {
            return ctx.store->resolve(ref);
        } catch (const Error&) {
            if (!ctx.pull) throw;
        }
        // a name no registry could have (upper case, bad characters): its reference error
        // first, not the pull it would start
        oci::image::parse_reference(ref);
        fmt::print(stderr, "Unable to find image '{}' locally\n", ref);
        ctx.pull(ref);
        image::Image pulled = ctx.store->resolve(ref);
        emit_image_event(ctx.data_root, "pull", ref);
        return pulled;
    }();
    if (!img.config.architecture.empty()) {
        oci::image::Platform p = image::platform_of(img);
        require_runnable(p, fmt::format("image \"{}\" ({})", ref, p.str()));
    }
    return img;
}

// Everything made for the container so far: undone (undo_made) unless the run got that far.
struct Made {
    explicit Made(const std::string& data_root) : db(data_root), volumes(data_root) {}
    Containers db;
    VolumeStore volumes;
    image::Store* store = nullptr;
    std::string id;
    bool recorded = false;
    bool rootfs = false;
    // Made for this container: removed with it (the named ones only until it exists).
    MadeVolumes volumes_made;
};

void undo_made(Made& made) noexcept {
    try {
        for (auto* list : {&made.volumes_made.named, &made.volumes_made.anonymous})
            for (auto& v : *list) made.volumes.destroy(v);
        if (made.rootfs) made.store->release_rootfs(made.id);
        if (made.recorded) made.db.remove(made.id);
    } catch (const std::exception& e) {
        log::warn("cleaning up container {}: {}", made.id, e.what());
    }
}

void add_record(Containers& db, ContainerRecord& rec, bool name_is_ours, bool userns) {
    auto prepare = [&](ContainerRecord& r, const std::vector<ContainerRecord>& all) {
        if (!userns) return;
        std::vector<oci::IdMapping> used;
        for (auto& other : all)
            for (auto* maps : {&other.uid_maps, &other.gid_maps})
                used.insert(used.end(), maps->begin(), maps->end());
        uint32_t base = pick_range(available_ranges(), used, kContainerIds);
        r.uid_maps = r.gid_maps = {oci::IdMapping{0, base, kContainerIds}};
    };
    for (int attempt = 0;; ++attempt) {
        try {
            db.add(rec, prepare);
            return;
        } catch (const Error& e) {
            if (!name_is_ours || attempt >= 20 || e.kind() != ErrorKind::name_in_use) throw;
            rec.name = random_name() + std::to_string(attempt);
        }
    }
}

// The container's init opens its root after entering the user namespace, as the
// container's root (an unprivileged host uid): the store's 0700 directories above the
// root must let it pass (search only, no listing).
void reachable_from_userns(const std::string& rootfs) {
    std::string container_dir = rootfs.substr(0, rootfs.rfind('/'));
    std::string roots_dir = container_dir.substr(0, container_dir.rfind('/'));
    for (auto& d : {roots_dir, container_dir})
        if (::chmod(d.c_str(), 0711) != 0) throw_sys("chmod", d);
}

// -P: every port the image exposes ("80/tcp") that no -p publishes yet, to a free host port.
void publish_exposed(RunOptions& o, const std::vector<std::string>& exposed) {
    for (auto& port : exposed) {
        auto want = network::parse_publish(port);
        bool published = std::any_of(o.publish.begin(), o.publish.end(), [&](auto& have) {
            return have.container_port == want.container_port && have.protocol == want.protocol;
        });
        if (!published) o.publish.push_back(want);
    }
}

// "80/tcp" for "80", every port of a range ("8000-8001/udp"), as docker's --expose takes them.
std::vector<std::string> expose_ports(std::string_view spec) {
    std::string_view ports = spec;
    std::string_view proto = "tcp";
    if (size_t slash = spec.find('/'); slash != std::string_view::npos) {
        ports = spec.substr(0, slash);
        proto = spec.substr(slash + 1);
    }
    auto port = [&](std::string_view s) {
        unsigned v = 0;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc() || end != s.data() + s.size() || s.empty() || v == 0 || v > 65535)
            throw Error(fmt::format("invalid range format for --expose: {}", spec));
        return v;
    };
    if (proto != "tcp" && proto != "udp" && proto != "sctp")
        throw Error(fmt::format("invalid proto: {}", proto));
    size_t dash = ports.find('-');
    unsigned first = port(ports.substr(0, dash));
    unsigned last = dash == std::string_view::npos ? first : port(ports.substr(dash + 1));
    if (last < first) throw Error(fmt::format("invalid range format for --expose: {}", spec));
    std::vector<std::string> out;
    for (unsigned p = first; p <= last; ++p) out.push_back(fmt::format("{}/{}", p, proto));
    return out;
}

// The ports the container exposes, as docker's container config has them: the image's,
// --expose's and each -p's container port.
std::vector<std::string> container_exposed_ports(const RunOptions& o, const image::Image* img) {
    std::set<std::string> ports;
    if (img != nullptr)
        ports.insert(img->config.exposed_ports.begin(), img->config.exposed_ports.end());
    for (auto& e : o.expose)
        for (auto& p : expose_ports(e)) ports.insert(p);
    for (auto& m : o.publish) ports.insert(fmt::format("{}/{}", m.container_port, m.protocol));
    return {ports.begin(), ports.end()};
}

// The record, root filesystem and bundle of a new container ("created": nothing runs).
ContainerRecord prepare_container(EngineContext& ctx, RunOptions& o, const LogOptions& log,
                                  Made& made) {
    validate(o);
    if (o.network == NetworkMode::host && (!o.publish.empty() || o.publish_all)) {
        fmt::print(stderr, "WARNING: Published ports are discarded when using host network mode\n");
        o.publish.clear();
        o.publish_all = false;
    }
    for (auto& e : o.expose) expose_ports(e);  // bad input fails before any pull
    std::optional<image::Image> img;
    if (o.rootfs.empty()) img = resolve_image(ctx, o.image, o.image_digest);
    if (o.publish_all) publish_exposed(o, container_exposed_ports(o, img ? &*img : nullptr));
    // validate the command before anything is made
    container_args(o, img ? &img->config : nullptr);

    Containers& db = made.db;
    ContainerRecord rec;
    rec.id = new_container_id();
    rec.name = o.name.empty() ? random_name() : o.name;
    rec.image = o.image;
    rec.image_id = img ? img->id : "";
    rec.exposed_ports = container_exposed_ports(o, img ? &*img : nullptr);
    rec.created = runtime::now_rfc3339();
    rec.auto_remove = o.rm;
    rec.tty = o.tty;
    rec.open_stdin = o.interactive;
    rec.log_max_size = log.max_size;
    rec.log_max_file = log.max_file;
    rec.network = o.network;
    rec.network_options = o.network_options;
    rec.publish = o.publish;
    check_attachments(ctx, o.networks);
    check_published(ctx, o.network, o.networks, o.publish);
    rec.networks = o.networks;
    rec.dns = o.dns;
    rec.restart_policy = o.restart;
    rec.health = resolve_health(
        o.health, img && img->config.healthcheck ? &*img->config.healthcheck : nullptr);
    bool userns = o.userns == UsernsMode::automatic;
    if (!o.uidmap.empty() || !o.gidmap.empty()) {  // the user's own ranges (only one given: both)
        rec.uid_maps = o.uidmap.empty() ? o.gidmap : o.uidmap;
        rec.gid_maps = o.gidmap.empty() ? o.uidmap : o.gidmap;
    }
    // Rootless: a user namespace whose root is the user (engine/rootless.h).
    const bool rootless = sys::rootless();
    if (rootless) {
        RootlessMaps maps = rootless_maps();
        if (!maps.note.empty()) fmt::print(stderr, "{}\n", maps.note);
        rec.uid_maps = std::move(maps.uids);
        rec.gid_maps = std::move(maps.gids);
    }
    made.store = ctx.store;
    made.id = rec.id;
    add_record(db, rec, o.name.empty(), userns);
    made.recorded = true;

    std::optional<image::IdShift> range = rec.id_shift();
    BundleInputs in;
    sys::UniqueFd host_root;  // a rootless overlay root as we reach it (BundleInputs::host_root)
    if (img && rootless) {
        made.rootfs = true;
        // The layers stay the user's (it cannot chown into its range): the user is the
        // container's root, the owner of every file. The root is overlayfs mounted by the
        // container's init in its user namespace, where the kernel allows it.
        auto root = ctx.store->prepare_userns_rootfs(img->id, rec.id);
        if (!root.note.empty()) fmt::print(stderr, "{}\n", root.note);
        rec.rootfs = root.path;
        in.root_overlay = std::move(root.overlay);
        in.root_type = root.type;
        if (!in.root_overlay.empty())
            in.host_root = [&ctx, &host_root, id = rec.id] {
                if (!host_root) host_root = ctx.store->open_userns_rootfs(id);
                return fmt::format("/proc/self/fd/{}", host_root.get());
            };
        reachable_from_userns(rec.rootfs);
    } else if (img) {
        made.rootfs = true;
        rec.rootfs = ctx.store->prepare_rootfs(img->id, rec.id, range);
        if (range) reachable_from_userns(rec.rootfs);
    } else {
        char real[PATH_MAX];
        if (!::realpath(o.rootfs.c_str(), real)) throw_sys("--rootfs", o.rootfs);
        struct stat st {};
        if (::stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
            throw Error(fmt::format("--rootfs {}: not a directory", o.rootfs));
        rec.rootfs = real;
    }

    in.image = img ? &img->config : nullptr;
    in.rootfs = rec.rootfs;
    in.id = rec.id;
    in.hostname = o.hostname.empty() ? rec.id.substr(0, 12) : o.hostname;
    if (o.hostname.empty() && o.network == NetworkMode::host) {
        char h[HOST_NAME_MAX + 1] = {};
        if (::gethostname(h, sizeof h - 1) == 0) in.hostname = h;
    }
    in.bundle_dir = db.dir(rec.id);
    in.userns = range;
    if (uses_user_netns(rec)) in.userns_join = user_netns_userns(ctx);
    if (o.init) in.init_path = find_helper("husk-init", "HUSK_INIT");
    if (o.network == NetworkMode::user && !o.networks.empty() &&
        network::cni_network_name(o.networks.front().network).empty())  // cni: the host's
        in.nameserver = get_network(ctx, o.networks.front().network).gateway;
    // slirp4netns answers DNS itself, forwarded to the host's resolvers (--dns still wins)
    if (o.network == NetworkMode::slirp4netns && o.dns.empty()) in.nameserver = network::kSlirpDns;
    // a user's default network is pasta's: the host's resolvers on its loopback through its
    // forwarder (others are reached directly)
    if (o.network == NetworkMode::bridge && sys::rootless() && o.dns.empty() &&
        host_resolver_on_loopback())
        in.nameserver = network::kPastaDnsForward;
    in.host_cpus = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
    attach_volumes(
        ctx.data_root, o, rec, img ? img->config.volumes : std::vector<std::string>{},
        [&in] { return in.root_for_host(); }, made.volumes_made);
    oci::Spec spec = build_spec(o, in);
    if (rootless) drop_unmapped_mount_ids(spec);
    rec.command = spec.process->args;
    rec.config = container_config(o, in.image);
    write_bundle(spec, o, in);
    db.save(rec);
    emit_container_event(ctx.data_root, rec, "create");
    made.volumes_made.named.clear();  // named volumes outlive the container from now on
    return rec;
}

int run_container(EngineContext& ctx, RunOptions& o) {
    // the network helper's end awaited after the container's removal, not before
    network::DeferredHelperEnds helper_ends;
    Made made(ctx.data_root);
    sys::ScopeGuard undo([&]() noexcept { undo_made(made); });
    ContainerRecord rec = prepare_container(ctx, o, {}, made);
    Containers& db = made.db;
    if (!o.interactive) sys::stdin_from_dev_null();

    // we are its monitor: a `husk ps` meanwhile must not record it exited
    sys::UniqueFd watching = db.watch(rec.id);
    std::string state_root = ctx.state_root();
    sys::mkdir_all(state_root, 0700);
    runtime::CreateOptions co;
    co.root = state_root;
    co.id = rec.id;
    co.rootless = sys::unprivileged();  // root of a user namespace too
    co.bundle = db.dir(rec.id);
    runtime::RunEvents ev;
    ev.terminal_input = o.interactive;
    sys::UniqueFd helper_exit;  // slirp4netns ends with us, killed or not
    if (uses_user_netns(rec)) prepare_user_netns(ctx, rec);
    ev.created = [&](pid_t pid) {
        // rootless, the init brings it up itself (runtime Plan::loopback_up)
        if (o.network != NetworkMode::host && !sys::rootless()) loopback_up(pid);
        if (connects(o.network)) helper_exit = connect_container(ctx, rec, pid);
        rec.status = ContainerStatus::running;
        db.save(rec);
        emit_container_event(ctx.data_root, rec, "start");
    };
    int code = 0;
    try {
        code = runtime::run(co, false, &ev);
    } catch (const Error& e) {
        disconnect_container(ctx, rec.id);
        throw create_error(e, rec.command);
    }
    disconnect_container(ctx, rec.id);
    rec.status = ContainerStatus::exited;
    rec.exit_code = code;
    rec.finished = runtime::now_rfc3339();
    rec.oom_killed = ev.oom_kills > 0;
    if (rec.oom_killed) emit_container_event(ctx.data_root, rec, "oom");
    emit_container_event(ctx.data_root, rec, "die", {{"exitCode", std::to_string(code)}});
    if (rec.oom_killed)
        fmt::print(stderr,
                   "husk: container {} was killed by the kernel's OOM killer (memory limit {})\n",
                   rec.name,
                   o.memory ? fmt::format("{} MiB", *o.memory / (1024L * 1024)) : "of its cgroup");
    if (!o.rm) {
        db.save(rec);
        undo.dismiss();
    } else {
        emit_container_event(ctx.data_root, rec, "destroy");  // the guard removes it
    }
    return code;
}

}  // namespace

std::string EngineContext::state_root() const {
    return state_root_of(data_root);
}

int run_foreground(EngineContext& ctx, RunOptions opts) {
    try {
        return run_container(ctx, opts);
    } catch (const std::exception& e) {
        rethrow_exiting(e);
    }
}

ContainerRecord create_container(EngineContext& ctx, RunOptions opts, const LogOptions& log) {
    try {
        Made made(ctx.data_root);
        sys::ScopeGuard undo([&]() noexcept { undo_made(made); });
        ContainerRecord rec = prepare_container(ctx, opts, log, made);
        undo.dismiss();
        return rec;
    } catch (const std::exception& e) {
        rethrow_exiting(e);
    }
}

void rethrow_exiting(const std::exception& e) {
    if (auto* he = dynamic_cast<const Error*>(&e)) {
        if (he->exit_code() != 0) throw *he;
        throw Error(he->what(), ExitCode{kExitEngineError}, he->kind(), he->code());
    }
    throw Error(e.what(), ExitCode{kExitEngineError});
}

Error create_error(const Error& e, const std::vector<std::string>& args) {
    if (!args.empty() && e.kind() == ErrorKind::exec_not_found)
        return {fmt::format("exec: \"{}\": executable file not found in $PATH", args[0]),
                ExitCode{kExitNotFound}, e.kind(), e.code()};
    if (!args.empty() && e.kind() == ErrorKind::exec_denied)
        return {fmt::format("exec: \"{}\": permission denied", args[0]), ExitCode{kExitCannotExec},
                e.kind(), e.code()};
    return {e.what(), ExitCode{kExitEngineError}, e.kind(), e.code()};
}

}  // namespace husk::engine
